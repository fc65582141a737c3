// Forecast cards of templates/insights/_forecast_chart.html: the last 90 days (or 12
// months) of actual cost from the cost API, then the stored forecast's expected cost with
// its 80 % and 95 % intervals as shaded bands. Amounts are exact decimal strings; only the
// drawn heights are Numbers. Needs Chart.js and insights/charts.js loaded before it.
(function (root) {
  "use strict";
  if (root.PortalForecasts) return;

  const EMPTY = "No forecast yet: forecasts are computed nightly and after each ingest of a bill.";
  const ACTUAL = "#1f6feb";
  const EXPECTED = "#7a5af8";
  const BAND80 = "rgba(122, 90, 248, 0.28)";
  const BAND95 = "rgba(122, 90, 248, 0.12)";
  const SHOWN = { daily: 90, monthly: 12 };

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(text, days) {
    const [y, m, d] = text.split("-").map(Number);
    return isoDay(new Date(Date.UTC(y, m - 1, d + days)));
  }

  function addMonths(text, months) {
    const [y, m] = text.split("-").map(Number);
    return isoDay(new Date(Date.UTC(y, m - 1 + months, 1)));
  }

  // The actual cost's query: the shown stretch up to the forecast's history end.
  function actualQuery(card, row) {
    const last = row.history_to;
    let start;
    let end;
    if (row.frequency === "monthly") {
      start = addMonths(last, 1 - SHOWN.monthly);
      end = addMonths(last, 1);
    } else {
      start = addDays(last, 1 - SHOWN.daily);
      end = addDays(last, 1);
    }
    // Not before the history the forecast read: a series younger than the stretch shown
    // would start with days that cost nothing because there was nothing yet.
    if (row.history_from && row.history_from > start) start = row.history_from;
    const params = new URLSearchParams({ start, end, granularity: row.frequency, limit: "1" });
    if (card.dataset.filter) params.append("filter", card.dataset.filter);
    return `${card.dataset.costsApi}?${params}`;
  }

  // Pure: labels and datasets of an actual answer's days and the forecast's points.
  function forecastData(actual, row) {
    const charts = root.PortalCharts;
    const byDate = new Map();
    for (const group of (actual && actual.groups) || []) {
      for (const point of group.series || []) {
        byDate.set(point.date, charts.sumDecimals([byDate.get(point.date) || "0", point.amount]));
      }
    }
    const history = [...byDate.keys()].sort();
    const dates = [...history, ...row.points.map((p) => p.date)];
    const gap = history.map(() => null);
    const ahead = (field) => [...gap, ...row.points.map((p) => Number(p[field]))];
    const amounts = (field) => [...gap, ...row.points.map((p) => p[field])];
    const band = (label, field, colour, fill) => ({
      label, data: ahead(field), amounts: amounts(field), borderWidth: 0, pointRadius: 0,
      backgroundColor: colour, fill, band: true,
    });
    // Each band fills down to the dataset before it: lower 95, upper 95 (to lower 95), ...
    const datasets = [
      band("95 % low", "lower95", BAND95, false),
      band("95 % interval", "upper95", BAND95, "-1"),
      band("80 % low", "lower80", BAND80, false),
      band("80 % interval", "upper80", BAND80, "-1"),
      {
        label: "Actual",
        data: [...history.map((day) => Number(byDate.get(day))), ...row.points.map(() => null)],
        amounts: [...history.map((day) => byDate.get(day)), ...row.points.map(() => null)],
        borderColor: ACTUAL, backgroundColor: ACTUAL, borderWidth: 2, pointRadius: 0, fill: false,
      },
      {
        label: "Expected", data: ahead("expected"), amounts: amounts("expected"),
        borderColor: EXPECTED, backgroundColor: EXPECTED, borderDash: [6, 4], borderWidth: 2,
        pointRadius: 0, fill: false,
      },
    ];
    const labels = dates.map((day) => charts.dateLabel(day, row.frequency));
    return { labels, datasets };
  }

  function draw(canvas, data, currency) {
    const Chart = root.Chart;
    const charts = root.PortalCharts;
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    const axis = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0, useGrouping: true });
    return new Chart(canvas, {
      type: "line",
      data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { autoSkip: true, maxTicksLimit: 12 } },
          y: {
            beginAtZero: true,
            title: { display: Boolean(currency), text: currency },
            ticks: { callback: (value) => axis.format(value) },
          },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: { boxWidth: 12, boxHeight: 12, filter: (item) => !/ low$/.test(item.text) },
          },
          tooltip: {
            filter: (item) => item.dataset.amounts[item.dataIndex] !== null && !/ low$/.test(item.dataset.label),
            callbacks: {
              label: (item) => {
                const ds = item.dataset;
                const index = item.dataIndex;
                const value = (amounts) => charts.formatMoney(amounts[index], currency);
                if (!ds.band) return ` ${ds.label}: ${value(ds.amounts)}`;
                const low = item.chart.data.datasets[item.datasetIndex - 1].amounts;
                return ` ${ds.label}: ${value(low)} – ${value(ds.amounts)}`;
              },
            },
          },
        },
      },
    });
  }

  const DAY = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" });
  const MONTH = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" });

  // "2026-07-01" -> "Jul 1, 2026" (daily) or "July 2026" (monthly), as the template says it.
  function historyDate(text, frequency) {
    if (!text) return "";
    const [y, m, d] = text.split("-").map(Number);
    return (frequency === "monthly" ? MONTH : DAY).format(new Date(Date.UTC(y, m - 1, d || 1)));
  }

  function factsText(row) {
    const box = document.createElement("div");
    box.className = "forecast-facts";
    box.dataset.forecastFacts = row.frequency;
    const add = (text, muted) => {
      const p = document.createElement("p");
      if (muted) p.className = "muted";
      p.textContent = text;
      box.appendChild(p);
    };
    if (!row.points.length) {
      add(`No ${row.frequency} forecast: ${row.reason}.`, true);
      return box;
    }
    if (row.mape !== null) {
      const strong = document.createElement("p");
      strong.innerHTML = "<strong></strong> <span class=\"muted\"></span>";
      strong.querySelector("strong").textContent = `Backtest error ${row.mape} %`;
      strong.querySelector("span").textContent = `(${row.backtest_note})`;
      box.appendChild(strong);
    } else {
      add(`No backtest error: ${row.backtest_note}.`, true);
    }
    const from = historyDate(row.history_from, row.frequency);
    const to = historyDate(row.history_to, row.frequency);
    add(`Method: ${row.method}; from the billed cost of ${from} to ${to}.`, true);
    return box;
  }

  // Rows rendered by the template: their facts are there, their points in a JSON script.
  function renderedRows(card) {
    const rows = {};
    for (const facts of card.querySelectorAll("[data-forecast-facts]")) {
      const script = facts.querySelector('script[type="application/json"]');
      rows[facts.dataset.forecastFacts] = {
        frequency: facts.dataset.forecastFacts,
        currency: facts.dataset.currency,
        history_from: facts.dataset.historyFrom,
        history_to: facts.dataset.historyTo,
        reason: facts.dataset.reason,
        points: script ? JSON.parse(script.textContent) : [],
      };
    }
    return rows;
  }

  // On the explorer: the series of its one team or service filter, else the tenant's.
  function explorerSeries(card) {
    const params = new URLSearchParams(root.location.search);
    const filters = params.getAll("filter").filter(Boolean);
    if (!params.get("view") && filters.length === 1) {
      const [dimension, ...rest] = filters[0].split(":");
      const value = rest.join(":");
      if (value && (dimension === "team" || dimension === "service")) {
        const query = dimension === "team" ? `scope=team&label=${encodeURIComponent(value)}`
          : `scope=service&key=${encodeURIComponent(value)}`;
        return { api: `${card.dataset.forecastsApiBase}?${query}`, filter: filters[0], label: value };
      }
    }
    return null;
  }

  async function fetchedRows(card) {
    let url = card.dataset.forecastsApi;
    if ("followExplorer" in card.dataset) {
      card.dataset.forecastsApiBase = url.split("?")[0];
      const found = explorerSeries(card);
      if (found) {
        url = found.api;
        card.dataset.filter = found.filter;
        card.querySelector("[data-forecast-label]").textContent = `· ${found.label}`;
      }
    }
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    const rows = {};
    const place = card.querySelector("[data-forecast-facts-api]");
    for (const row of body.results || []) {
      rows[row.frequency] = row;
      const facts = factsText(row);
      facts.hidden = row.frequency !== "daily";
      place.appendChild(facts);
    }
    return rows;
  }

  async function show(card, rows, frequency) {
    const charts = root.PortalCharts;
    const canvas = card.querySelector("[data-forecast-chart]");
    for (const button of card.querySelectorAll("[data-frequency]")) {
      button.setAttribute("aria-pressed", String(button.dataset.frequency === frequency));
    }
    for (const facts of card.querySelectorAll("[data-forecast-facts]")) {
      facts.hidden = facts.dataset.forecastFacts !== frequency;
    }
    const row = rows[frequency];
    if (!row) return charts.showEmpty(canvas, EMPTY);
    if (!row.points.length) return charts.showEmpty(canvas, `No ${frequency} forecast: ${row.reason}.`);
    let actual = null;
    try {
      const response = await fetch(actualQuery(card, row), { credentials: "same-origin" });
      if (response.ok) actual = await response.json();
    } catch (error) {
      actual = null; // the forecast alone is still worth drawing
    }
    charts.hideEmpty(canvas);
    draw(canvas, forecastData(actual, row), row.currency);
  }

  async function initCard(card) {
    let rows;
    try {
      rows = card.dataset.forecastsApi ? await fetchedRows(card) : renderedRows(card);
    } catch (error) {
      root.PortalCharts.showEmpty(card.querySelector("[data-forecast-chart]"), "The forecast could not be read.");
      return;
    }
    for (const button of card.querySelectorAll("[data-frequency]")) {
      button.addEventListener("click", () => show(card, rows, button.dataset.frequency));
    }
    show(card, rows, "daily");
  }

  function init() {
    for (const card of document.querySelectorAll("[data-forecast-card]")) initCard(card);
  }

  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
    else init();
  }
  root.PortalForecasts = { forecastData, actualQuery };
})(typeof window !== "undefined" ? window : globalThis);
