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
// 常用表述: the formulations recurring among the query's matches, fetched once the results are shown.
// Each links to a search for it as an exact phrase.
document.querySelectorAll("section.phrases[data-src]").forEach(async (panel) => {
  try {
    const response = await fetch(panel.dataset.src);
    if (!response.ok) return;
    const { phrases } = await response.json();
    const list = panel.querySelector("ul");
    for (const p of phrases) {
      const url = new URL(location.href);
      url.searchParams.set("q", `"${p.text}"`);
      url.searchParams.delete("offset");
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = url.pathname + url.search;
      link.textContent = p.text;
      link.title = `在 ${p.reports} 份报告、${p.passages} 段中出现；点击按精确短语检索`;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = p.reports;
      item.append(link, " ", count);
      list.append(item);
    }
    panel.hidden = phrases.length === 0;
  } catch (err) {
    // the panel stays hidden: the results do not depend on it
  }
});
