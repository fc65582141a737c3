// A team's cost per unit, one small chart per metric: the cost per unit of each day as a
// line (left axis) over the team's cost of the day as bars (right axis).
// Amounts come as decimal strings; Number is used only to draw them.
(function () {
  "use strict";
  var data = document.getElementById("unit-cost-data");
  if (!data || !window.Chart) {
    return;
  }
  var chart = JSON.parse(data.textContent);
  var style = getComputedStyle(document.documentElement);
  var accent = style.getPropertyValue("--accent").trim() || "#1f6feb";
  var money = function (text) {
    if (text === null || text === undefined) return "";
    var charts = window.PortalCharts;
    return charts ? charts.formatMoney(text, chart.currency) : text + " " + chart.currency;
  };
  var units = function (text) {
    return text === null ? "no value" : Number(text).toLocaleString("en-US", { maximumFractionDigits: 2 });
  };
  var labels = chart.dates.map(function (day) {
    return new Date(day + "T00:00:00Z").toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  });
  chart.metrics.forEach(function (metric, index) {
    var canvas = document.querySelector('[data-unit-chart="' + index + '"]');
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      data: {
        labels: labels,
        datasets: [
          {
            type: "line",
            label: "Cost " + metric.per,
            data: metric.per_unit.map(function (v) { return v === null ? null : Number(v); }),
            borderColor: accent,
            backgroundColor: accent,
            pointRadius: 0,
            pointHoverRadius: 3,
            borderWidth: 2,
            tension: 0.2,
            spanGaps: false,
            yAxisID: "perUnit",
            order: 1,
          },
          {
            type: "bar",
            label: "Team cost",
            data: chart.cost.map(Number),
            backgroundColor: "rgba(152, 162, 179, 0.35)",
            borderWidth: 0,
            yAxisID: "cost",
            order: 2,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) { return chart.dates[items[0].dataIndex]; },
              label: function (item) {
                var i = item.dataIndex;
                if (item.datasetIndex === 1) return "Team cost: " + money(chart.cost[i]);
                var perUnit = metric.per_unit[i];
                return perUnit === null ? "No " + metric.metric + " value" : "Cost " + metric.per + ": " + money(perUnit);
              },
              afterBody: function (items) {
                return metric.metric + ": " + units(metric.units[items[0].dataIndex]);
              },
            },
          },
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 7 } },
          perUnit: {
            position: "left",
            beginAtZero: true,
            title: { display: true, text: chart.currency + " " + metric.per },
          },
          cost: {
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            title: { display: true, text: chart.currency + " a day" },
          },
        },
      },
    });
  });
})();
