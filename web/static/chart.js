// The compare page's chart: matching passages per year, one line per series (all matches, then each
// region or issuer chosen), drawn by uPlot (vendored under static/vendor/, no network needed).
(() => {
  const data = document.getElementById("series-data");
  const box = document.getElementById("chart");
  if (!data || !box || typeof uPlot === "undefined") return;
  const series = JSON.parse(data.textContent);
  const found = series.flatMap((s) => s.points.map((p) => p.year));
  if (!found.length) return;
  // every year from the first to the last: a year without matches is a 0, not a line drawn across it
  const first = Math.min(...found), last = Math.max(...found);
  const years = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const colours = ["#b42318", "#0b57d0", "#137333", "#e37400", "#8430ce", "#007b83", "#5f6368"];
  const columns = [years].concat(series.map((s) => {
    const by = new Map(s.points.map((p) => [p.year, p.passages]));
    return years.map((y) => by.get(y) || 0);
  }));
  const options = () => ({
    width: Math.max(280, box.clientWidth),
    height: box.clientWidth < 500 ? 220 : 280,
    scales: { x: { time: false } },
    axes: [{ values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) }, { label: "段落" }],
    series: [{ label: "年份" }].concat(series.map((s, i) => ({
      label: s.name, stroke: colours[i % colours.length], width: 2, points: { show: years.length < 40 },
    }))),
  });
  let plot = new uPlot(options(), columns, box);
  box.dataset.rendered = "true";
  window.addEventListener("resize", () => { plot.setSize({ width: Math.max(280, box.clientWidth), height: plot.height }); });
})();
