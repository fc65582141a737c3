// An anomaly's page: its daily cost against the expected (anomalous days shaded) and its
// root causes as horizontal bars. Amounts arrive as exact decimal text (#anomaly-chart);
// they become Numbers only to draw, and the tooltips round them as the server does.
(function () {
  "use strict";
  const source = document.getElementById("anomaly-chart");
  if (!source || !window.Chart) return;
  const config = JSON.parse(source.textContent);
  const currency = config.currency;
  const money = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: true,
  });
  const moneyText = (value) => `${money.format(Number(value))} ${currency}`;
  const ACTUAL = "#f04438";
  const EXPECTED = "#1f6feb";
  const SHADE = "rgba(240, 68, 56, 0.10)";
  const CAUSE_BAR = "#f79009";
  const LABEL_WIDTH = 150;
  const shorten = (text) => (text.length > 24 ? `${text.slice(0, 23)}…` : text);

  // Draws a band behind the anomalous days (from start to end, both included).
  const shadeDays = {
    id: "shadeDays",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const labels = chart.data.labels;
      const first = labels.indexOf(config.start);
      let last = labels.indexOf(config.end);
      if (first < 0) return;
      if (last < 0) last = labels.length - 1;
      const half = labels.length > 1 ? (scales.x.getPixelForValue(1) - scales.x.getPixelForValue(0)) / 2 : 20;
      const left = Math.max(scales.x.getPixelForValue(first) - half, chartArea.left);
      const right = Math.min(scales.x.getPixelForValue(last) + half, chartArea.right);
      ctx.save();
      ctx.fillStyle = SHADE;
      ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
      ctx.restore();
    },
  };

  function dayLabel(iso) {
    const [year, month, day] = iso.split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString("en-GB", {
      day: "numeric", month: "short", timeZone: "UTC",
    });
  }

  const canvas = document.querySelector("[data-anomaly-chart]");
  if (canvas && config.days.length) {
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: config.days.map((d) => d.date),
        datasets: [
          {
            label: "Actual", data: config.days.map((d) => Number(d.actual)),
            borderColor: ACTUAL, backgroundColor: ACTUAL, borderWidth: 2, pointRadius: 2, tension: 0.2,
          },
          {
            label: "Expected", data: config.days.map((d) => (d.expected === null ? null : Number(d.expected))),
            borderColor: EXPECTED, backgroundColor: EXPECTED, borderDash: [6, 4], borderWidth: 2,
            pointRadius: 0, tension: 0.2,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => dayLabel(items[0].label),
              label: (item) => {
                const day = config.days[item.dataIndex];
                const text = item.datasetIndex === 0 ? day.actual : day.expected;
                return `${item.dataset.label}: ${text === null ? "no baseline yet" : moneyText(text)}`;
              },
            },
          },
        },
        scales: {
          x: {
            offset: true, // room for the shading of the first and last day
            ticks: { callback: (value, index) => dayLabel(config.days[index].date), maxRotation: 0, autoSkipPadding: 12 },
            grid: { display: false },
          },
          y: { beginAtZero: true, ticks: { callback: (value) => money.format(value).replace(/\.00$/, "") } },
        },
      },
      plugins: [shadeDays],
    });
  }

  document.querySelectorAll("[data-cause-chart]").forEach((node) => {
    const group = config.causes[Number(node.dataset.causeChart)];
    if (!group) return;
    new window.Chart(node, {
      type: "bar",
      data: {
        labels: group.items.map((item) => item.label),
        datasets: [{
          data: group.items.map((item) => (item.share === null ? 0 : Number(item.share))),
          backgroundColor: CAUSE_BAR, borderRadius: 3, barThickness: 14,
        }],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => group.items[items[0].dataIndex].label,
              label: (item) => {
                const cause = group.items[item.dataIndex];
                const share = cause.share === null ? "" : `${cause.share} % of the impact · `;
                return `${share}${moneyText(cause.impact)}`;
              },
            },
          },
        },
        scales: {
          x: { min: 0, suggestedMax: 100, ticks: { stepSize: 25, callback: (value) => `${value} %` } },
          y: {
            grid: { display: false },
            ticks: { autoSkip: false, callback: (value, index) => shorten(group.items[index].label) },
            afterFit: (axis) => { axis.width = LABEL_WIDTH; }, // the groups' bars line up
          },
        },
      },
    });
  });
})();
