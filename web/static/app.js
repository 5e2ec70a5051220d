// Copy a passage's text (the original words, without highlight marks); 复制 adds its source line
// (——《title》（year，issuer）heading path), 复制原文 copies the words alone.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const words = document.getElementById(button.dataset.copy).innerText;
  const text = button.dataset.citation ? words + "\n" + button.dataset.citation : words;
  const label = (button.dataset.label ||= button.textContent);
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = "已复制";
  setTimeout(() => { button.textContent = label; }, 1500);
});
// Changing the mode re-runs the search.
document.querySelectorAll("form.search input[name=mode]").forEach((radio) => {
  radio.addEventListener("change", () => { if (radio.form.q.value.trim()) radio.form.submit(); });
});
