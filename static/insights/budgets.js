// Budget pages: the detail page's chart of cumulative cost against the budget and the
// forecast, and the form's scope-dependent fields and added rows.
// Amounts come as decimal strings; Number is used only to draw them.
(function () {
  "use strict";

  function money(text, currency) {
    if (text === null || text === undefined) return "";
    var charts = window.PortalCharts;
    return charts ? charts.formatMoney(text, currency) : text + " " + currency;
  }

  function drawChart() {
    var data = document.getElementById("budget-chart");
    var canvas = document.getElementById("budget-chart-canvas");
    if (!data || !canvas || !window.Chart) return;
    var chart = JSON.parse(data.textContent);
    if (!chart) return;
    var style = getComputedStyle(document.documentElement);
    var accent = style.getPropertyValue("--accent").trim() || "#1f6feb";
    var bad = style.getPropertyValue("--bad").trim() || "#b42318";
    var labels = chart.days.map(function (day) {
      return new Date(day + "T00:00:00Z").toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
    });
    var numbers = function (values) {
      return values.map(function (v) { return v === null ? null : Number(v); });
    };
    var flat = function (value) {
      return chart.days.map(function () { return Number(value); });
    };
    var datasets = [
      {
        label: "Actual, cumulative",
        data: numbers(chart.actual),
        borderColor: accent,
        backgroundColor: "rgba(31, 111, 235, 0.12)",
        fill: "origin",
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 3,
        spanGaps: false,
      },
      {
        label: "Forecast",
        data: numbers(chart.forecast),
        borderColor: accent,
        borderDash: [6, 4],
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 3,
        spanGaps: false,
      },
      {
        label: "Budget",
        data: flat(chart.budget),
        borderColor: bad,
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 0,
      },
    ];
    chart.marks.forEach(function (mark) {
      if (Number(mark.limit) === Number(chart.budget)) return; // the budget line says it
      datasets.push({
        label: mark.label,
        data: flat(mark.limit),
        borderColor: "#98a2b3",
        borderDash: [2, 3],
        borderWidth: 1,
        pointRadius: 0,
        pointHoverRadius: 0,
      });
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 12, autoSkip: true } },
          y: {
            beginAtZero: true,
            ticks: { callback: function (value) { return money(String(value), chart.currency).replace(/\.00 /, " "); } },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var raw = item.dataset.label === "Actual, cumulative" ? chart.actual[item.dataIndex]
                  : item.dataset.label === "Forecast" ? chart.forecast[item.dataIndex]
                  : null;
                var text = raw !== null ? money(raw, chart.currency) : money(String(item.parsed.y), chart.currency);
                return item.dataset.label + ": " + text;
              },
            },
          },
        },
      },
    });
  }

  function formParts() {
    var form = document.querySelector("[data-budget-form]");
    if (!form) return;
    var show = function () {
      var scope = form.querySelector('input[name="scope"]:checked');
      var chosen = scope ? scope.value : "tenant";
      form.querySelectorAll("[data-scope-part]").forEach(function (part) {
        part.hidden = part.getAttribute("data-scope-part") !== chosen;
      });
      var period = form.querySelector('select[name="period"]');
      form.querySelectorAll("[data-period-part]").forEach(function (part) {
        part.hidden = period && period.value !== part.getAttribute("data-period-part");
      });
    };
    form.addEventListener("change", show);
    show();
    form.querySelectorAll("[data-add-row]").forEach(function (button) {
      var prefix = button.getAttribute("data-add-row");
      var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
      var template = form.querySelector('template[data-empty-row="' + prefix + '"]');
      var rows = form.querySelector('[data-rows="' + prefix + '"]');
      if (!total || !template || !rows) return;
      button.addEventListener("click", function () {
        var index = Number(total.value);
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        rows.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        var first = rows.lastElementChild && rows.lastElementChild.querySelector("input, select");
        if (first) first.focus();
      });
    });
  }

  drawChart();
  formParts();
})();
