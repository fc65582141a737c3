// The cost explorer page: the form's state in the query string, the API's answer drawn.
//
// The server renders the form from the query string and puts its state, the user's
// options and the API's URLs in #explorer-config. Every change here rewrites the query
// string (history.replaceState, so a view is bookmarkable), asks /api/v1/costs/ with the
// same parameters and draws the chart and the table. Amounts stay decimal strings.
(function () {
  "use strict";

  const configElement = document.getElementById("explorer-config");
  const form = document.querySelector("[data-explorer-form]");
  if (!configElement || !form || !window.PortalCharts) return;

  const config = JSON.parse(configElement.textContent);
  const charts = window.PortalCharts;
  const page = {
    canvas: document.querySelector("[data-explorer-chart]"),
    result: document.querySelector("[data-result]"),
    summary: document.querySelector("[data-summary]"),
    empty: document.querySelector("[data-chart-empty]"),
    emptyHint: document.querySelector("[data-empty-hint]"),
    error: document.querySelector("[data-error]"),
    locked: document.querySelector("[data-locked]"),
    tableCard: document.querySelector("[data-table-card]"),
    table: document.querySelector("[data-table]"),
    csv: document.querySelector("[data-csv-link]"),
    rows: form.querySelector("[data-filter-rows]"),
    addFilter: form.querySelector("[data-add-filter]"),
  };
  const emptyHtml = page.empty.innerHTML; // the role's own message, from the server
  const field = (name) => form.querySelector(`[data-field="${name}"]`);
  const dimensionLabels = new Map(config.options.dimensions.map((d) => [d.key, d.label]));
  const metricLabels = new Map(config.options.metrics.map((m) => [m.key, m.label]));
  const valuesCache = new Map();
  let state = config.state;
  let inFlight = null;
  let timer = null;

  // ---- dates as YYYY-MM-DD strings, in UTC so no time zone moves a day

  function addDays(text, days) {
    const [y, m, d] = text.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }

  function dimensionLabel(key) {
    if (dimensionLabels.has(key)) return dimensionLabels.get(key);
    if (config.dimension_labels[key]) return config.dimension_labels[key];
    if (key.startsWith("tag:")) return `Tag ${key.slice(4)}`;
    if (key.startsWith("category:")) return key.slice(9);
    return key;
  }

  // A filter as the API reads it (insights/views/explorer.py writes it the same way).
  function filterText(dimension, value) {
    if (/^(tag|category):/.test(dimension)) {
      const key = dimension.slice(dimension.indexOf(":") + 1);
      if (/[:=]/.test(key + value)) return `${dimension}=${value}`;
    }
    return `${dimension}:${value}`;
  }

  // ---- state <-> form, query strings

  function readForm() {
    const groupBy = [];
    for (const select of form.querySelectorAll('[data-field="group_by"]')) {
      if (select.value && !groupBy.includes(select.value)) groupBy.push(select.value);
    }
    const filters = [];
    for (const row of page.rows.querySelectorAll("[data-filter-row]")) {
      const value = row.querySelector("[data-filter-value]").value.trim();
      const dimension = row.querySelector("[data-filter-dimension]").value;
      if (value && dimension) {
        filters.push({ mode: row.querySelector("[data-filter-mode]").value, dimension, value });
      }
    }
    const last = field("to").value;
    return {
      period: field("period").value,
      start: field("start").value,
      end: last ? addDays(last, 1) : "",
      granularity: field("granularity").value,
      metric: field("metric").value,
      group_by: groupBy,
      filters,
      limit: field("limit").value,
      view: state.view,
    };
  }

  function queryParams(current, forPage) {
    const params = new URLSearchParams();
    if (current.view) params.set("view", current.view);
    if (forPage && current.period && current.period !== "custom") {
      params.set("period", current.period);
    } else {
      if (current.start) params.set("start", current.start);
      if (current.end) params.set("end", current.end);
    }
    params.set("granularity", current.granularity);
    params.set("metric", current.metric);
    // An empty group_by on the page means "no grouping", not the page's default.
    if (current.group_by.length || forPage) params.set("group_by", current.group_by.join(","));
    for (const row of current.filters) params.append(row.mode, filterText(row.dimension, row.value));
    if (current.limit) params.set("limit", current.limit);
    return params;
  }

  function apiParams(current) {
    const params = queryParams(current, false);
    if (!current.start) { // the page's presets are absolute dates for the API
      const span = config.presets[current.period];
      if (span) { params.set("start", span[0]); params.set("end", span[1]); }
    }
    return params;
  }

  // ---- the period picker

  function presetFor(start, end) {
    for (const [key, span] of Object.entries(config.presets)) {
      if (span[0] === start && span[1] === end) return key;
    }
    return "custom";
  }

  function onPeriodChange() {
    const span = config.presets[field("period").value];
    if (!span) return; // custom: the dates stay as they are, to be edited
    field("start").value = span[0];
    field("to").value = addDays(span[1], -1);
    field("granularity").value = config.monthly_presets.includes(field("period").value) ? "monthly" : "daily";
  }

  function onDateChange() {
    const start = field("start").value;
    const last = field("to").value;
    field("period").value = start && last ? presetFor(start, addDays(last, 1)) : "custom";
  }

  // ---- filter rows

  // An element with properties (className, textContent, value...) and attributes.
  function make(tag, props, attrs) {
    const node = Object.assign(document.createElement(tag), props || {});
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  function option(value, label, selected) {
    return make("option", { value, textContent: label, selected: Boolean(selected) });
  }

  function datalistFor(dimension) {
    const id = `explorer-values-${dimension.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    return document.getElementById(id) || form.appendChild(make("datalist", { id }));
  }

  async function loadValues(dimension) {
    const params = new URLSearchParams({ dimension });
    const span = apiParams(readForm());
    for (const name of ["start", "end", "view"]) if (span.get(name)) params.set(name, span.get(name));
    const key = params.toString();
    if (!valuesCache.has(key)) {
      valuesCache.set(key, fetch(`${config.urls.values}?${key}`, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      }).then((response) => (response.ok ? response.json() : { values: [] }))
        .then((body) => body.values || [])
        .catch(() => []));
    }
    const values = await valuesCache.get(key);
    datalistFor(dimension).replaceChildren(...values.map((value) => option(value, value)));
  }

  function filterRow(row) {
    const item = make("li", { className: "filter-row" }, { "data-filter-row": "" });
    const dimension = make("select", {}, { "data-filter-dimension": "", "aria-label": "Dimension" });
    for (const d of config.options.dimensions) dimension.appendChild(option(d.key, d.label, d.key === row.dimension));
    if (row.dimension && !dimensionLabels.has(row.dimension)) {
      dimension.appendChild(option(row.dimension, dimensionLabel(row.dimension), true));
    }
    const mode = make("select", {}, { "data-filter-mode": "", "aria-label": "Match" });
    mode.append(option("filter", "is", row.mode !== "exclude"), option("exclude", "is not", row.mode === "exclude"));
    const value = make("input", { type: "text", placeholder: "value", value: row.value || "" }, {
      "data-filter-value": "", "aria-label": "Value", list: datalistFor(dimension.value).id,
    });
    const remove = make("button", { type: "button", className: "link remove", textContent: "Remove" }, {
      "aria-label": "Remove this filter",
    });

    dimension.addEventListener("change", () => {
      value.setAttribute("list", datalistFor(dimension.value).id);
      loadValues(dimension.value);
      if (value.value.trim()) schedule(0);
    });
    value.addEventListener("focus", () => loadValues(dimension.value));
    value.addEventListener("change", () => schedule(0));
    mode.addEventListener("change", () => { if (value.value.trim()) schedule(0); });
    remove.addEventListener("click", () => {
      const had = value.value.trim();
      item.remove();
      showNoFilters();
      if (had) schedule(0);
    });
    item.append(dimension, mode, value, remove);
    return item;
  }

  function showNoFilters() {
    const none = page.rows.querySelector("[data-no-filters]");
    if (none) none.hidden = Boolean(page.rows.querySelector("[data-filter-row]"));
  }

  function buildFilterRows() {
    const none = make("li", { className: "muted", textContent: "No filters: every cost you may see." }, {
      "data-no-filters": "",
    });
    page.rows.replaceChildren(none, ...state.filters.map(filterRow));
    showNoFilters();
    page.addFilter.hidden = false;
    page.addFilter.addEventListener("click", () => {
      const used = new Set([...page.rows.querySelectorAll("[data-filter-dimension]")].map((s) => s.value));
      const next = config.options.dimensions.find((d) => !used.has(d.key)) || config.options.dimensions[0];
      const row = filterRow({ mode: "filter", dimension: next ? next.key : "", value: "" });
      page.rows.appendChild(row);
      showNoFilters();
      const select = row.querySelector("[data-filter-dimension]");
      loadValues(select.value);
      select.focus();
    });
  }

  // ---- asking and drawing

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(apply, delay);
  }

  function apply() {
    state = readForm();
    const pageQuery = queryParams(state, true).toString();
    history.replaceState(null, "", `${config.urls.page}?${pageQuery}`);
    const api = apiParams(state).toString();
    page.csv.href = `${config.urls.csv}?${api}`;
    if (state.start && state.end && state.end <= state.start) {
      if (inFlight) inFlight.abort();
      showError({ message: "The last day (To) must be on or after the first (From).", field: "end" });
      return;
    }
    load(api);
  }

  async function load(api) {
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    page.summary.innerHTML = '<span class="muted">Loading…</span>';
    let response;
    let body;
    try {
      const headers = { Accept: "application/json" };
      response = await fetch(`${config.urls.api}?${api}`, { credentials: "same-origin", headers, signal: controller.signal });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      if (error.name === "AbortError") return;
      showError({ message: "The cost could not be read: the server did not answer. Try again." });
      return;
    }
    if (controller !== inFlight) return;
    inFlight = null;
    if (!response.ok) {
      const message = body.message || body.detail || `The cost could not be read (HTTP ${response.status}).`;
      showError({ message, field: body.field });
      return;
    }
    showError(null);
    render(body);
  }

  function showError(error) {
    for (const element of form.querySelectorAll(".has-error")) element.classList.remove("has-error");
    if (!error) {
      page.error.hidden = true;
      page.error.textContent = "";
      page.result.hidden = false;
      return;
    }
    page.error.textContent = error.message;
    page.error.hidden = false;
    const control = error.field && field(error.field === "end" ? "to" : error.field);
    if (control) control.closest("label").classList.add("has-error");
    if (error.field === "filter" || error.field === "exclude") form.querySelector(".explorer-filters").classList.add("has-error");
    page.result.hidden = true;
    page.tableCard.hidden = true;
  }

  // An element with a class and children (strings become text).
  function element(tag, className, ...children) {
    const node = make(tag, className ? { className } : {});
    node.append(...children);
    return node;
  }

  function changeClass(amount) {
    if (state.metric === "margin" || !/[1-9]/.test(amount)) return "";
    return amount.startsWith("-") ? "down" : "up"; // a cost that rises is the one to look at
  }

  function renderLocked(answer) {
    const locked = answer.locked_filters || [];
    page.locked.replaceChildren();
    page.locked.hidden = locked.length === 0;
    if (!locked.length) return;
    page.locked.append(element("span", "muted", config.view ? `Locked by the billing view ${config.view.name}:` : "Limited to what you may see:"));
    for (const item of locked) {
      const chip = element("span", "chip locked", element("span", "chip-label", `${dimensionLabel(item.dimension)}:`), ` ${item.values.join(", ") || "any"}`);
      chip.title = "Locked: it cannot be removed here";
      page.locked.append(chip);
    }
  }

  function renderSummary(answer) {
    const money = (amount, sign) => charts.formatMoney(amount, answer.currency, { sign });
    const percent = answer.change_percent === null ? "" : ` (${charts.formatPercent(answer.change_percent)})`;
    const figure = (label, value) => element("div", "figure", element("span", "figure-label", label), value);
    const metric = metricLabels.get(answer.metric) || answer.metric;
    page.summary.replaceChildren(
      figure(`${metric}, ${charts.periodText(answer.start, answer.end)}`, element("strong", "figure-value", money(answer.total))),
      figure(`Previous period, ${charts.periodText(answer.previous_start, answer.previous_end)}`, element("span", "figure-value", money(answer.previous_total))),
      figure("Change", element("span", `change ${changeClass(answer.change)}`, `${money(answer.change, true)}${percent}`)),
    );
  }

  function renderTable(answer) {
    const labels = answer.group_by_labels && answer.group_by_labels.length ? answer.group_by_labels : ["Group"];
    const money = (amount, sign) => charts.formatMoney(amount, answer.currency, { sign });
    // Total, previous total, change and change %: of a group, or of the answer.
    const amounts = (tag, item) => [
      element(tag, "num", money(item.total)),
      element(tag, "num", money(item.previous_total)),
      element(tag, `num ${changeClass(item.change)}`, money(item.change, true)),
      element(tag, `num ${changeClass(item.change)}`, charts.formatPercent(item.change_percent)),
    ];
    const head = element("tr", "", ...labels.map((label) => element("th", "", label)));
    for (const label of ["Total", "Previous period", "Change", "Change %"]) head.append(element("th", "num", label));
    const body = answer.groups.map((group) => {
      const keys = group.keys && group.keys.length ? group.keys : [group.key];
      const cells = keys.map((key) => element("td", key === "(none)" ? "muted" : "", key));
      return element("tr", charts.isOthers(group) ? "others" : "", ...cells, ...amounts("td", group));
    });
    const label = element("th", "", "Total");
    label.colSpan = labels.length;
    page.table.tHead.replaceChildren(head);
    page.table.tBodies[0].replaceChildren(...body);
    // Without grouping the one row is the total already.
    page.table.tFoot.replaceChildren(...(answer.group_by.length ? [element("tr", "", label, ...amounts("th", answer))] : []));
    page.tableCard.hidden = false;
  }

  function render(answer) {
    renderLocked(answer);
    renderSummary(answer);
    if (charts.isEmpty(answer)) {
      // Only with nothing narrowing the question does "no cost" mean no bill loaded.
      if (config.view) page.empty.textContent = `No cost in the billing view ${config.view.name} for this period.`;
      else if (state.filters.length) page.empty.textContent = "No cost matches these filters in this period.";
      else page.empty.innerHTML = emptyHtml;
      charts.showEmpty(page.canvas);
      page.tableCard.hidden = true;
      if (page.emptyHint) page.emptyHint.hidden = state.period !== "this_month";
      return;
    }
    if (page.emptyHint) page.emptyHint.hidden = true;
    charts.hideEmpty(page.canvas);
    charts.stackedCost(page.canvas, answer);
    renderTable(answer);
  }

  // ---- wiring

  form.addEventListener("submit", (event) => { event.preventDefault(); schedule(0); });
  field("period").addEventListener("change", () => { onPeriodChange(); schedule(0); });
  for (const name of ["start", "to"]) field(name).addEventListener("change", () => { onDateChange(); schedule(150); });
  for (const name of ["granularity", "metric", "limit", "group_by"]) {
    for (const control of form.querySelectorAll(`[data-field="${name}"]`)) control.addEventListener("change", () => schedule(0));
  }
  for (const link of document.querySelectorAll("[data-preset-link]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      field("period").value = link.dataset.presetLink;
      onPeriodChange();
      schedule(0);
    });
  }
  buildFilterRows();
  apply();
})();
