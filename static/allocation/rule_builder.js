// The guided editor of a category's rules and splits on the "New rules" page.
//
// The JSON text boxes stay the form's fields: the editor reads them once, writes them on
// every change and before submit, and hides them. Without this script, or when their JSON
// is something the editor cannot show exactly, the text boxes are used as they are.
import {
  ACCOUNT_NAME,
  FIELDS,
  MAX_DEPTH,
  METHODS,
  OPS,
  Unrepresentable,
  newCondition,
  newGroup,
  newInheritedRule,
  newRegularRule,
  newSplit,
  newTarget,
  parseValues,
  percentSum,
  rulesFromJson,
  rulesToJson,
  splitsFromJson,
  splitsToJson,
  takesValues,
  valuesText,
  withField,
  withOp,
} from "./rule_model.js";

const FIELD_LABELS = {
  payer: "Payer account",
  account: "Account",
  ou: "Organizational unit",
  tag: "Tag",
  service: "Service",
  region: "Region",
  charge_category: "Charge category",
  usage_type: "Usage type",
  category: "Other cost category",
};
const OP_LABELS = {
  equals: "is",
  one_of: "is one of",
  starts_with: "starts with",
  ends_with: "ends with",
  contains: "contains",
  present: "is present",
  absent: "is absent",
};
const COMBINATOR_LABELS = {
  all: "When all of these match",
  any: "When any of these match",
};
const METHOD_LABELS = {
  proportional: "in proportion to their own costs",
  even: "evenly",
  fixed: "by fixed percentages",
};
const fieldOptions = Object.fromEntries(FIELDS.map((field) => [field, FIELD_LABELS[field]]));
const opOptions = Object.fromEntries(OPS.map((op) => [op, OP_LABELS[op]]));
const methodOptions = Object.fromEntries(METHODS.map((m) => [m, METHOD_LABELS[m]]));
// Suggestions for typing, filled from the page's "rule-builder-names" JSON.
const tagKeys = { list: "rule-builder-tag-keys" };
const categories = { list: "rule-builder-categories" };

// --- small DOM helpers ------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const button = (label, onclick, attrs = {}) =>
  el("button", { type: "button", class: "rb-button", onclick, ...attrs }, label);

const labelled = (text, control, className = "rb-field") =>
  el("label", { class: className }, el("span", {}, text), control);

function select(options, value, onchange) {
  return el(
    "select",
    { onchange: (event) => onchange(event.target.value) },
    ...Object.entries(options).map(([key, label]) =>
      el("option", { value: key, selected: key === value }, label),
    ),
  );
}

function textInput(value, oninput, attrs = {}) {
  const handler = (event) => oninput(event.target.value);
  return el("input", { type: "text", value, oninput: handler, ...attrs });
}

function checkbox(text, checked, onchange, title) {
  const handler = (event) => onchange(event.target.checked);
  const box = el("input", { type: "checkbox", checked, onchange: handler });
  return el("label", { class: "rb-check", title }, box, text);
}

const removeButton = (label, onclick, attrs = {}) =>
  button(label, onclick, { class: "rb-button rb-remove", ...attrs });

function cardHead(title, list, index, ctx) {
  const move = (by) =>
    ctx.then(() => {
      [list[index], list[index + by]] = [list[index + by], list[index]];
    });
  const name = title.toLowerCase();
  return el(
    "div",
    { class: "rb-card-head" },
    el("strong", {}, title),
    el(
      "span",
      { class: "rb-tools" },
      button("↑", move(-1), { "aria-label": `Move ${name} up`, disabled: index === 0 }),
      button("↓", move(1), {
        "aria-label": `Move ${name} down`,
        disabled: index === list.length - 1,
      }),
      removeButton("Remove", ctx.then(() => list.splice(index, 1)), {
        "aria-label": `Remove ${name}`,
      }),
    ),
  );
}

// --- rules ---------------------------------------------------------------------------------

function valuesBox(condition, ctx) {
  const text = valuesText(condition.values);
  const box = el("textarea", {
    rows: text.includes("\n") ? condition.values.length : 1,
    placeholder: "a, b, c — or one per line",
    oninput: (event) => {
      condition.values = parseValues(event.target.value);
      ctx.sync();
    },
  });
  box.value = text;
  return labelled("Values", box, "rb-field rb-values");
}

function conditionRow(condition, ctx, remove) {
  const change = (edit) => (value) => {
    Object.assign(condition, edit(condition, value));
    ctx.redraw();
  };
  const { field, op } = condition;
  return el(
    "div",
    { class: `rb-condition${condition.negated ? " rb-negated" : ""}` },
    checkbox("not", condition.negated, ctx.chosen(condition, "negated"), "Match when it does not"),
    labelled("Field", select(fieldOptions, field, change(withField))),
    field === "tag"
      ? labelled("Tag key", textInput(condition.key, ctx.typed(condition, "key"), tagKeys))
      : null,
    field === "category"
      ? labelled(
          "Category",
          textInput(condition.category, ctx.typed(condition, "category"), categories),
        )
      : null,
    labelled("Match", select(opOptions, op, change(withOp))),
    takesValues(op) ? valuesBox(condition, ctx) : null,
    checkbox("ignore case", condition.ignoreCase, ctx.typed(condition, "ignoreCase")),
    removeButton("Remove", remove, { "aria-label": "Remove condition" }),
  );
}

// `depth` counts the JSON levels down to this group, a "not" being one of them.
function groupEditor(group, depth, ctx, remove = null) {
  const children = group.children.map((child, index) => {
    const drop = ctx.then(() => group.children.splice(index, 1));
    if (child.type === "condition") return conditionRow(child, ctx, drop);
    return groupEditor(child, depth + 1 + (child.negated ? 1 : 0), ctx, drop);
  });
  // A nested group needs room for itself and one condition inside it.
  const roomForGroup = depth + 2 <= MAX_DEPTH;
  return el(
    "fieldset",
    { class: `rb-group${group.negated ? " rb-negated" : ""}` },
    el(
      "div",
      { class: "rb-group-head" },
      checkbox("not", group.negated, ctx.chosen(group, "negated"), "Match when it does not"),
      select(COMBINATOR_LABELS, group.combinator, ctx.typed(group, "combinator")),
      remove ? removeButton("Remove group", remove) : null,
    ),
    children.length
      ? el("div", { class: "rb-children" }, ...children)
      : el("p", { class: "muted" }, "No conditions yet."),
    el(
      "div",
      { class: "rb-actions" },
      button("Add condition", ctx.then(() => group.children.push(newCondition()))),
      roomForGroup
        ? button("Add group", ctx.then(() => group.children.push(newGroup("any"))))
        : null,
    ),
  );
}

function inheritedEditor(rule, ctx) {
  const sources = { tag: "a tag", [ACCOUNT_NAME]: "the account name" };
  return el(
    "div",
    { class: "rb-row" },
    labelled("Take the value from", select(sources, rule.source, ctx.chosen(rule, "source"))),
    rule.source === "tag"
      ? labelled("Tag key", textInput(rule.tagKey, ctx.typed(rule, "tagKey"), tagKeys))
      : null,
  );
}

function ruleCard(rules, index, ctx) {
  const rule = rules[index];
  if (rule.kind === "inherited") {
    return el(
      "section",
      { class: "rb-card" },
      cardHead(`Rule ${index + 1} (inherited)`, rules, index, ctx),
      inheritedEditor(rule, ctx),
    );
  }
  const value = textInput(rule.value, ctx.typed(rule, "value"), { placeholder: "e.g. Platform" });
  return el(
    "section",
    { class: "rb-card" },
    cardHead(`Rule ${index + 1}`, rules, index, ctx),
    labelled("Value", value),
    groupEditor(rule.expression, 1 + (rule.expression.negated ? 1 : 0), ctx),
  );
}

function rulesEditor(rules, ctx) {
  const intro = rules.length
    ? "Rules are tried in order; the first that matches sets the value."
    : "No rules: every cost gets the category's default value.";
  return el(
    "div",
    {},
    el("p", { class: "muted" }, intro),
    ...rules.map((_, index) => ruleCard(rules, index, ctx)),
    el(
      "div",
      { class: "rb-actions" },
      button("Add rule", ctx.then(() => rules.push(newRegularRule()))),
      button("Add inherited rule", ctx.then(() => rules.push(newInheritedRule()))),
    ),
  );
}

// --- splits --------------------------------------------------------------------------------

function showSum(line, targets) {
  const { sum, valid, complete } = percentSum(targets);
  const problem = valid ? "must be 100" : "some percentages are missing or not numbers";
  line.textContent = complete ? `Sum: ${sum} %` : `Sum: ${sum} % — ${problem}`;
  line.classList.toggle("rb-bad", !complete);
}

function targetRow(split, index, ctx, sumLine) {
  const target = split.targets[index];
  const typedPercent = (percent) => {
    target.percent = percent;
    showSum(sumLine, split.targets);
    ctx.sync();
  };
  const percent = textInput(target.percent, typedPercent, { inputmode: "decimal", size: "6" });
  return el(
    "div",
    { class: "rb-row" },
    labelled("Value", textInput(target.value, ctx.typed(target, "value"))),
    split.method === "fixed" ? labelled("Percent", percent, "rb-field rb-percent") : null,
    removeButton("Remove", ctx.then(() => split.targets.splice(index, 1)), {
      "aria-label": "Remove target",
    }),
  );
}

function splitCard(splits, index, ctx) {
  const split = splits[index];
  const fixed = split.method === "fixed";
  const sumLine = el("p", { class: "rb-sum", "aria-live": "polite" });
  if (fixed) showSum(sumLine, split.targets);
  const source = textInput(split.source, ctx.typed(split, "source"), {
    placeholder: "e.g. Shared",
  });
  const method = select(methodOptions, split.method, ctx.chosen(split, "method"));
  return el(
    "section",
    { class: "rb-card" },
    cardHead(`Split ${index + 1}`, splits, index, ctx),
    el(
      "div",
      { class: "rb-row" },
      labelled("Share the cost of value", source),
      labelled("Shared among the values below", method),
    ),
    ...split.targets.map((_, i) => targetRow(split, i, ctx, sumLine)),
    fixed ? sumLine : null,
    el(
      "div",
      { class: "rb-actions" },
      button("Add target", ctx.then(() => split.targets.push(newTarget()))),
    ),
  );
}

function splitsEditor(splits, ctx) {
  const none = el("p", { class: "muted" }, "No splits: every value keeps its own cost.");
  const add = button("Add split", ctx.then(() => splits.push(newSplit())));
  return el(
    "div",
    {},
    splits.length ? null : none,
    ...splits.map((_, index) => splitCard(splits, index, ctx)),
    el("div", { class: "rb-actions" }, add),
  );
}

// --- mounting ------------------------------------------------------------------------------

function datalist(id, names) {
  if (document.getElementById(id)) return;
  const options = names.map((name) => el("option", { value: name }));
  document.body.append(el("datalist", { id }, ...options));
}

function readNames() {
  const script = document.getElementById("rule-builder-names");
  const names = script ? JSON.parse(script.textContent) : {};
  datalist(tagKeys.list, names.tag_keys ?? []);
  datalist(categories.list, names.categories ?? []);
}

// Edits in place: `typed` for inputs that change no layout, `chosen` and `then` for
// choices and buttons that do, so the editor is drawn again.
function editing(model, editor, render, sync) {
  const ctx = {
    sync,
    redraw() {
      // Keyboard users keep their place: focus goes to the control at the same position,
      // which after "Add condition" (say) is the first control of the new row.
      const controls = () => [...editor.querySelectorAll("input, select, textarea, button")];
      const position = controls().indexOf(document.activeElement);
      editor.replaceChildren(render(model, ctx));
      sync();
      if (position >= 0) {
        const after = controls();
        after[Math.min(position, after.length - 1)]?.focus();
      }
    },
    typed: (part, name) => (value) => {
      part[name] = value;
      sync();
    },
    chosen: (part, name) => (value) => {
      part[name] = value;
      ctx.redraw();
    },
    then: (action) => () => {
      action();
      ctx.redraw();
    },
  };
  return ctx;
}

function mount(textarea, { parse, toJson, render, what }) {
  let model;
  try {
    model = parse(textarea.value);
  } catch (error) {
    if (!(error instanceof Unrepresentable)) throw error;
    const note =
      `The guided editor cannot show these ${what} (${error.message}); edit the JSON.`;
    textarea.before(el("p", { class: "rb-note" }, note));
    return;
  }
  const editor = el("div", { class: "rule-builder" });
  const sync = () => {
    textarea.value = toJson(model);
  };
  editor.replaceChildren(render(model, editing(model, editor, render, sync)));
  const toggle = button(
    "Show JSON",
    () => {
      textarea.hidden = !textarea.hidden;
      toggle.textContent = textarea.hidden ? "Show JSON" : "Hide JSON";
    },
    { class: "rb-button rb-json" },
  );
  const help = textarea.parentElement.querySelector("small");
  if (help) help.hidden = true;
  // Shown read-only: the editor is the one place to change what is submitted.
  textarea.readOnly = true;
  textarea.hidden = true;
  textarea.before(editor, toggle);
  textarea.form?.addEventListener("submit", sync);
}

export function startRuleBuilder(form) {
  readNames();
  const rules = form.querySelector('textarea[name="rules"]');
  const splits = form.querySelector('textarea[name="splits"]');
  if (rules) {
    const parts = { parse: rulesFromJson, toJson: rulesToJson, render: rulesEditor };
    mount(rules, { ...parts, what: "rules" });
  }
  if (splits) {
    const parts = { parse: splitsFromJson, toJson: splitsToJson, render: splitsEditor };
    mount(splits, { ...parts, what: "splits" });
  }
}

const form = document.querySelector("form[data-rule-builder]");
if (form) startRuleBuilder(form);
