// Cost charts shared by the pages: window.PortalCharts.
//
// An answer is the cost API's JSON (/api/v1/costs/): amounts are exact decimal strings.
// They are rounded and grouped as strings for text; only the bars' heights are Numbers.
// Needs Chart.js (static/vendor/chartjs/chart.umd.min.js) loaded before it for drawing.
(function (root) {
  "use strict";
  if (root.PortalCharts) return; // loaded twice by one page: once is enough

  const PALETTE = [
    "#1f6feb", "#f79009", "#12b76a", "#7a5af8", "#ee46bc",
    "#06aed4", "#f04438", "#669f2a", "#dd2590", "#b54708",
  ];
  const OTHERS_COLOUR = "#98a2b3";
  const OTHERS = "Others";
  const digitsCache = {};

  // The currency's minor unit in digits (USD 2, JPY 0), as Intl knows it.
  function minorDigits(currency) {
    if (!currency) return 2;
    if (!(currency in digitsCache)) {
      let digits = 2;
      try {
        digits = new Intl.NumberFormat("en-US", { style: "currency", currency })
          .resolvedOptions().maximumFractionDigits;
      } catch (error) {
        digits = 2; // an unknown code: cents
      }
      digitsCache[currency] = digits;
    }
    return digitsCache[currency];
  }

  // "1234.565" -> "1234.57": half away from zero on the decimal text, as the server does.
  function roundDecimal(text, digits) {
    const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(String(text));
    if (!match) return null;
    const sign = match[1] === "-" ? "-" : "";
    const whole = match[2] || "0";
    const fraction = match[3] || "";
    let kept = (whole + fraction.padEnd(digits, "0").slice(0, digits)).split("").map(Number);
    if ((fraction[digits] || "0") >= "5") {
      let index = kept.length - 1;
      while (index >= 0 && kept[index] === 9) kept[index--] = 0;
      if (index < 0) kept = [1, ...kept];
      else kept[index] += 1;
    }
    const digitsText = kept.join("");
    const intPart = digitsText.slice(0, digitsText.length - digits).replace(/^0+(?=\d)/, "");
    const fracPart = digitsText.slice(digitsText.length - digits);
    const isZero = /^[0.]*$/.test(intPart + fracPart);
    return (isZero ? "" : sign) + (intPart || "0") + (digits ? "." + fracPart : "");
  }

  // "1234.5", "USD" -> "1,234.50 USD"; options.sign puts "+" before a positive amount,
  // options.bare leaves the currency out.
  function formatMoney(amountString, currency, options) {
    const opts = options || {};
    if (amountString === null || amountString === undefined || amountString === "") return "";
    const digits = minorDigits(currency);
    const rounded = roundDecimal(amountString, digits);
    if (rounded === null) return String(amountString);
    const format = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: true,
    });
    // A string keeps its exact digits where Intl.NumberFormat takes decimal strings; it
    // is already rounded, so an older browser's Number conversion changes nothing shown.
    let text = format.format(rounded);
    if (opts.sign && !rounded.startsWith("-") && /[1-9]/.test(rounded)) text = "+" + text;
    return opts.bare || !currency ? text : `${text} ${currency}`;
  }

  // "12.34" -> "+12.3 %"; null (the previous period had no cost) -> "—".
  function formatPercent(percentString) {
    if (percentString === null || percentString === undefined) return "—";
    const rounded = roundDecimal(percentString, 1);
    if (rounded === null) return String(percentString);
    const sign = !rounded.startsWith("-") && /[1-9]/.test(rounded) ? "+" : "";
    return `${sign}${rounded} %`;
  }

  function parseDay(text) {
    const [year, month, day] = String(text).split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, day || 1));
  }

  const DAY_LABEL = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  const MONTH_LABEL = new Intl.DateTimeFormat("en-US", { month: "short", year: "numeric", timeZone: "UTC" });

  function dateLabel(text, granularity) {
    return (granularity === "monthly" ? MONTH_LABEL : DAY_LABEL).format(parseDay(text));
  }

  const RANGE = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" });

  // "2026-11-01", "2026-12-01" (exclusive) -> "Nov 1 – 30, 2026".
  function periodText(start, endExclusive) {
    const first = parseDay(start);
    const last = new Date(parseDay(endExclusive).getTime() - 86400000);
    return RANGE.formatRange ? RANGE.formatRange(first, last) : `${RANGE.format(first)} – ${RANGE.format(last)}`;
  }

  function isOthers(group) {
    return Array.isArray(group.keys) && group.keys.length > 0 && group.keys.every((k) => k === OTHERS);
  }

  function isEmpty(answer) {
    if (!answer || !Array.isArray(answer.groups) || answer.groups.length === 0) return true;
    return answer.groups.every((group) => !/[1-9]/.test(String(group.total)))
      && !/[1-9]/.test(String(answer.total));
  }

  // The chart's labels and datasets; pure, so it is testable without a canvas.
  function chartData(answer) {
    const groups = (answer.groups || []).slice();
    groups.sort((a, b) => Number(isOthers(a)) - Number(isOthers(b))); // stable: Others last
    const dates = [];
    const seen = new Set();
    for (const group of groups) {
      for (const point of group.series || []) {
        if (!seen.has(point.date)) {
          seen.add(point.date);
          dates.push(point.date);
        }
      }
    }
    dates.sort();
    let colour = 0;
    const datasets = groups.map((group) => {
      const byDate = new Map((group.series || []).map((p) => [p.date, p.amount]));
      const others = isOthers(group);
      const fill = others ? OTHERS_COLOUR : PALETTE[colour++ % PALETTE.length];
      return {
        label: group.key,
        data: dates.map((day) => Number(byDate.get(day) || 0)),
        amounts: dates.map((day) => byDate.get(day) || "0"),
        backgroundColor: fill,
        borderColor: fill,
        borderWidth: 0,
        stack: "cost",
      };
    });
    return { dates, labels: dates.map((day) => dateLabel(day, answer.granularity)), datasets };
  }

  // The exact sum of decimal strings, for a tooltip's total (scaled integers, no floats).
  function sumDecimals(amounts) {
    let scale = 0;
    for (const amount of amounts) {
      const fraction = String(amount).split(".")[1] || "";
      scale = Math.max(scale, fraction.length);
    }
    let total = 0n;
    for (const amount of amounts) {
      const [whole, fraction = ""] = String(amount).replace(/^[+-]/, "").split(".");
      const units = BigInt((whole || "0") + fraction.padEnd(scale, "0"));
      total += String(amount).startsWith("-") ? -units : units;
    }
    const negative = total < 0n;
    const digits = (negative ? -total : total).toString().padStart(scale + 1, "0");
    const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
    return (negative ? "-" : "") + text;
  }

  function stackedCost(canvas, answer, options) {
    const opts = options || {};
    const Chart = root.Chart;
    if (!Chart) throw new Error("Chart.js is not loaded");
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    const currency = answer.currency || "";
    const { labels, datasets } = chartData(answer);
    const axisFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0, useGrouping: true });
    return new Chart(canvas, {
      type: "bar",
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: opts.animation === undefined ? { duration: 250 } : opts.animation,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false } },
          y: {
            stacked: true,
            beginAtZero: true,
            title: { display: Boolean(currency), text: currency },
            ticks: { callback: (value) => `${axisFormat.format(value)}` },
          },
        },
        plugins: {
          legend: {
            display: opts.legend === undefined ? datasets.length > 1 || datasets[0]?.label !== "Total" : opts.legend,
            position: "bottom",
            labels: { boxWidth: 12, boxHeight: 12 },
          },
          title: { display: Boolean(opts.title), text: opts.title || "" },
          tooltip: {
            filter: (item) => /[1-9]/.test(String(item.dataset.amounts[item.dataIndex])),
            itemSort: (a, b) => b.parsed.y - a.parsed.y,
            callbacks: {
              label: (item) =>
                ` ${item.dataset.label}: ${formatMoney(item.dataset.amounts[item.dataIndex], currency)}`,
              footer: (items) => {
                if (items.length < 2) return "";
                const index = items[0].dataIndex;
                const all = items[0].chart.data.datasets.map((ds) => ds.amounts[index]);
                return `Total: ${formatMoney(sumDecimals(all), currency)}`;
              },
            },
          },
        },
      },
    });
  }

  // The element beside a canvas that says why nothing is drawn.
  function emptyElement(canvas) {
    const box = canvas.closest("[data-chart-box]") || canvas.parentElement;
    let element = box.querySelector("[data-chart-empty]");
    if (!element) {
      element = document.createElement("p");
      element.className = "chart-empty";
      element.setAttribute("data-chart-empty", "");
      box.appendChild(element);
    }
    return element;
  }

  function showEmpty(canvas, message) {
    const Chart = root.Chart;
    const existing = Chart && Chart.getChart(canvas);
    if (existing) existing.destroy();
    const element = emptyElement(canvas);
    if (message) element.textContent = message;
    else if (!element.textContent.trim()) element.textContent = "No cost to show for this period yet.";
    element.hidden = false;
    canvas.hidden = true;
    element.parentElement.classList.add("is-empty");
  }

  function hideEmpty(canvas) {
    const element = emptyElement(canvas);
    element.hidden = true;
    element.parentElement.classList.remove("is-empty");
    canvas.hidden = false;
  }

  // Fetches the cost API's answer (same origin, the session's cookie) and draws it; an
  // answer without cost, or an error, is said in the sibling [data-chart-empty] element.
  // Resolves to the answer (null on an error) so a page can show its totals too.
  async function fetchAndDraw(canvas, url, options) {
    const opts = options || {};
    let answer;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        const message = body.message || body.detail || `The cost could not be read (HTTP ${response.status}).`;
        const refused = response.status === 400 && opts.refused;
        showEmpty(canvas, refused || message);
        emptyElement(canvas).title = refused ? message : "";
        return null;
      }
      answer = body;
    } catch (error) {
      showEmpty(canvas, "The cost could not be read: the server did not answer.");
      return null;
    }
    if (isEmpty(answer)) {
      showEmpty(canvas);
    } else {
      hideEmpty(canvas);
      stackedCost(canvas, answer, opts);
    }
    return answer;
  }

  // Cards rendered by templates/insights/_cost_chart.html: this month's or last month's
  // cost, drawn from the card's API URL, with its total and a link to the explorer.
  function lastMonthSpan(firstOfMonth) {
    const [year, month] = firstOfMonth.split("-").map(Number);
    const start = new Date(Date.UTC(year, month - 2, 1)).toISOString().slice(0, 10);
    return [start, firstOfMonth];
  }

  async function drawCostCard(card, period) {
    const canvas = card.querySelector("[data-cost-chart]");
    const total = card.querySelector("[data-cost-total]");
    const link = card.querySelector("[data-explorer-link]");
    let url = card.dataset.api;
    if (period === "last_month") {
      const [start, end] = lastMonthSpan(card.dataset.month);
      url += `&start=${start}&end=${end}`;
    }
    for (const button of card.querySelectorAll("[data-period]")) {
      button.setAttribute("aria-pressed", String(button.dataset.period === period));
    }
    if (link) link.href = `${card.dataset.explorer}&period=${period}`;
    total.textContent = "";
    const answer = await fetchAndDraw(canvas, url, { animation: false, refused: card.dataset.refused });
    if (answer && !isEmpty(answer)) {
      const change = formatMoney(answer.change, answer.currency, { sign: true });
      const percent = answer.change_percent === null ? "" : `, ${formatPercent(answer.change_percent)}`;
      const before = periodText(answer.previous_start, answer.previous_end);
      total.textContent = `${formatMoney(answer.total, answer.currency)} (${change}${percent} against ${before})`;
    }
  }

  function initCostCards() {
    for (const card of document.querySelectorAll("[data-cost-card]")) {
      for (const button of card.querySelectorAll("[data-period]")) {
        button.addEventListener("click", () => drawCostCard(card, button.dataset.period));
      }
      drawCostCard(card, "this_month");
    }
  }

  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initCostCards);
    else initCostCards();
  }

  const api = {
    formatMoney, formatPercent, periodText, roundDecimal, sumDecimals, chartData, dateLabel, isEmpty,
    isOthers, stackedCost, fetchAndDraw, showEmpty, hideEmpty,
  };
  root.PortalCharts = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
