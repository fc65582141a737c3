// The home page's score trends: one small line chart per team, weeks on x, scores 0-100.
// Scores come as decimal strings; Number is used only to draw them.
(function () {
  "use strict";
  var data = document.getElementById("score-trends");
  if (!data || !window.Chart) {
    return;
  }
  var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#1f6feb";
  JSON.parse(data.textContent).forEach(function (trend) {
    var canvas = document.getElementById("score-trend-" + trend.id);
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: trend.weeks,
        datasets: [{
          label: trend.team,
          data: trend.scores.map(function (score) { return score === null ? null : Number(score); }),
          borderColor: accent,
          backgroundColor: accent,
          pointRadius: 2.5,
          tension: 0.25,
          spanGaps: false,
        }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                var index = items[0].dataIndex;
                return trend.weeks[index] + " (from " + trend.starts[index] + ")";
              },
              label: function (item) {
                var score = trend.scores[item.dataIndex];
                return score === null ? "no score" : "Score " + score;
              },
            },
          },
        },
        scales: {
          y: { min: 0, max: 100, ticks: { stepSize: 25 } },
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } },
        },
      },
    });
  });
})();
