// Copy a passage's text (the original words, without highlight marks); 复制 adds its source line
// (——《title》（year，issuer）heading path), 复制原文 copies the words alone.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const words = document.getElementById(button.dataset.copy).innerText;
  const text = button.dataset.citation ? words + "\n" + button.dataset.citation : words;
  const label = (button.dataset.label ||= button.textContent);
  try {
    // a browser may leave the promise pending (no focus, a permission prompt): copy the old way after 1 s
    const stalled = new Promise((_, reject) => setTimeout(() => reject(new Error("clipboard stalled")), 1000));
    await Promise.race([navigator.clipboard.writeText(text), stalled]);
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
      link.title = `匹配段落中有 ${p.passages} 段含此表述，出自 ${p.reports} 份报告；点击按精确短语检索`;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = `${p.reports} 份`;  // reports: the facets below count passages
      item.append(link, " ", count);
      list.append(item);
    }
    panel.hidden = phrases.length === 0;
  } catch (err) {
    // the panel stays hidden: the results do not depend on it
  }
});
// 素材篮: passages a writer gathers across searches, kept in this browser (localStorage), shown at
// /basket grouped by section role in a report's order, reordered, annotated and exported together
// through POST /api/export.
const BASKET_KEY = "report-search-basket";
const basket = {
  load() {
    try { return JSON.parse(localStorage.getItem(BASKET_KEY)) || []; } catch (err) { return []; }
  },
  save(items) {
    localStorage.setItem(BASKET_KEY, JSON.stringify(items));
    basket.badge();
  },
  has(id) { return basket.load().some((item) => item.id === id); },
  badge() {
    const n = basket.load().length;
    document.querySelectorAll(".basket-count").forEach((el) => { el.textContent = n ? `（${n}）` : ""; });
    document.querySelectorAll("button.basket-add").forEach((button) => {
      const inside = basket.has(button.dataset.passage);
      button.textContent = inside ? "已在素材篮" : "加入素材篮";
      button.classList.toggle("in-basket", inside);
      button.title = inside ? "再点一次从素材篮移除" : "收入素材篮，稍后一起导出";
    });
  },
};
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.basket-add");
  if (!button) return;
  const items = basket.load();
  const id = button.dataset.passage;
  if (items.some((item) => item.id === id)) {
    basket.save(items.filter((item) => item.id !== id));
    return;
  }
  const source = document.getElementById(button.dataset.text);
  const text = source ? (source.dataset.full || source.innerText) : "";
  items.push({ id, section: button.dataset.section, title: button.dataset.title,
               citation: button.dataset.citation, text, note: "" });
  basket.save(items);
});
// The outline's 全部加入素材篮: every passage of the outline not in the basket yet.
document.addEventListener("click", (event) => {
  if (!event.target.closest("button.basket-add-all")) return;
  const items = basket.load();
  document.querySelectorAll("button.basket-add").forEach((button) => {
    if (items.some((item) => item.id === button.dataset.passage)) return;
    const source = document.getElementById(button.dataset.text);
    items.push({ id: button.dataset.passage, section: button.dataset.section, title: button.dataset.title,
                 citation: button.dataset.citation, text: source ? source.innerText : "", note: "" });
  });
  basket.save(items);
});
basket.badge();
window.addEventListener("storage", (event) => { if (event.key === BASKET_KEY) { basket.badge(); renderBasket(); } });

function renderBasket() {
  const page = document.querySelector("section.basket");
  if (!page) return;
  const roles = JSON.parse(page.dataset.roles);  // [code, name] pairs in a report's order
  const codes = roles.map(([code]) => code);
  const items = basket.load();
  page.querySelector(".basket-empty").hidden = items.length > 0;
  page.querySelector(".basket-tools").hidden = items.length === 0;
  const groups = page.querySelector(".basket-groups");
  groups.replaceChildren();
  for (const [role, name] of roles) {
    const members = items.filter((item) => (codes.includes(item.section) ? item.section : "other") === role);
    if (!members.length) continue;
    const group = document.createElement("section");
    group.className = "basket-group";
    group.dataset.section = role;
    const heading = document.createElement("h3");
    heading.textContent = `${name}（${members.length}）`;
    group.append(heading);
    members.forEach((item, i) => {
      const card = document.createElement("article");
      card.className = "basket-item";
      card.dataset.passage = item.id;
      const title = document.createElement("div");
      title.className = "title";
      title.textContent = `《${item.title}》`;
      const text = document.createElement("div");
      text.className = "text";
      text.textContent = item.text;
      const citation = document.createElement("div");
      citation.className = "path";
      citation.textContent = item.citation;
      const note = document.createElement("textarea");
      note.className = "note";
      note.maxLength = 1000;
      note.placeholder = "批注（导出时附在段落后）";
      note.value = item.note || "";
      note.addEventListener("change", () => {
        const all = basket.load();
        const found = all.find((x) => x.id === item.id);
        if (found) { found.note = note.value; basket.save(all); }
      });
      const actions = document.createElement("div");
      actions.className = "actions";
      for (const [label, step] of [["上移", -1], ["下移", 1]]) {
        const move = document.createElement("button");
        move.type = "button";
        move.textContent = label;
        move.disabled = (step < 0 && i === 0) || (step > 0 && i === members.length - 1);
        move.addEventListener("click", () => moveItem(item.id, members[i + step].id));
        actions.append(move);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "移除";
      remove.addEventListener("click", () => { basket.save(basket.load().filter((x) => x.id !== item.id)); renderBasket(); });
      actions.append(remove);
      card.append(title, text, citation, note, actions);
      group.append(card);
    });
    groups.append(group);
  }
}

function moveItem(id, otherId) {
  // Swap two passages of one section in the stored order (the export keeps it within each section).
  const items = basket.load();
  const a = items.findIndex((x) => x.id === id);
  const b = items.findIndex((x) => x.id === otherId);
  if (a < 0 || b < 0) return;
  [items[a], items[b]] = [items[b], items[a]];
  basket.save(items);
  renderBasket();
}

document.querySelectorAll("section.basket").forEach((page) => {
  renderBasket();
  page.querySelector(".basket-clear").addEventListener("click", () => {
    if (confirm("清空素材篮？")) { basket.save([]); renderBasket(); }
  });
  page.querySelectorAll("button[data-export]").forEach((button) => {
    button.addEventListener("click", async () => {
      const status = page.querySelector(".basket-status");
      // In the stored order: the server groups them by section role, keeping this order within each.
      const ordered = basket.load();
      const body = {
        passage_ids: ordered.map((x) => x.id),
        format: button.dataset.export,
        title: page.querySelector("input[name=title]").value.trim() || null,
        notes: Object.fromEntries(ordered.filter((x) => x.note).map((x) => [x.id, x.note])),
        simplified: page.querySelector("input[name=simplified]").checked,
      };
      status.textContent = "正在生成…";
      try {
        const response = await fetch("/api/export", { method: "POST", headers: { "Content-Type": "application/json" },
                                                       body: JSON.stringify(body) });
        if (!response.ok) {
          const problem = await response.json().catch(() => ({}));
          status.textContent = "导出失败：" + ((problem.error && problem.error.message) || response.status);
          return;
        }
        const blob = await response.blob();
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = `${body.title || "素材摘编"}.${button.dataset.export}`;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
        status.textContent = `已导出 ${ordered.length} 段`;
      } catch (err) {
        status.textContent = "导出失败：无法连接服务器";
      }
    });
  });
});
// 返回结果: back to the page the reader came from on this site (its search), else home.
document.querySelectorAll("a[data-back]").forEach((link) => {
  if (document.referrer.startsWith(location.origin)) link.href = document.referrer;
});
// On a phone the outline starts folded.
document.querySelectorAll("details.outline").forEach((outline) => {
  if (window.matchMedia("(max-width: 700px)").matches) outline.open = false;
});
// The report view opens at its target passage with the passage before it in view: the one before
// begins at the top where both fit on the screen, else the target does.
function openAtTarget() {
  const target = document.querySelector(".report .passage-block.target");
  if (!target) return;
  const before = target.previousElementSibling && target.previousElementSibling.closest(".passage-block");
  const top = (el) => el.getBoundingClientRect().top + window.scrollY;
  const room = target.getBoundingClientRect().bottom - (before ? before.getBoundingClientRect().top : 0);
  const from = before && room <= window.innerHeight - 16 ? before : target;
  window.scrollTo({ top: Math.max(0, top(from) - 8) });
}
// Once loaded, and again once the browser has scrolled to the URL's #passage itself.
window.addEventListener("load", () => { openAtTarget(); setTimeout(openAtTarget, 150); });
