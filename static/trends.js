// Draws each trend (a <canvas data-series-id>) with Chart.js: the values, and the reference range as dashed lines.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  document.querySelectorAll("canvas[data-series-id]").forEach((canvas) => {
    const series = JSON.parse(document.getElementById(canvas.dataset.seriesId).textContent);
    const labels = series.points.map((p) => p.t.replace("T", " "));
    const datasets = [{label: `${series.label} (${series.unit})`, data: series.points.map((p) => p.v),
                       borderColor: "#1f5fbf", backgroundColor: "#1f5fbf", tension: 0.1}];
    for (const [name, value] of [["low", series.low], ["high", series.high]]) {
      if (value === null || value === undefined) continue;
      datasets.push({label: `reference ${name} ${value}`, data: labels.map(() => value), borderColor: "#8a8f98",
                     borderDash: [6, 4], pointRadius: 0, fill: false});
    }
    new Chart(canvas, {type: "line", data: {labels, datasets},
                       options: {animation: false, responsive: true, plugins: {legend: {position: "bottom"}}}});
  });
})();
