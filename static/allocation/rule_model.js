// The rule builder's editor model: allocation rules and splits as JSON, read into plain
// objects the page can edit and written back. No DOM here, so it runs under node --test.
//
// JSON that the model cannot show exactly (unknown parts, wrong types, values on
// "present") raises Unrepresentable; the page then keeps the JSON text box instead.

export const FIELDS = [
  "payer",
  "account",
  "ou",
  "tag",
  "service",
  "region",
  "charge_category",
  "usage_type",
  "category",
];
export const VALUE_OPS = ["equals", "one_of", "starts_with", "ends_with", "contains"];
export const PRESENCE_OPS = ["present", "absent"];
export const OPS = [...VALUE_OPS, ...PRESENCE_OPS];
export const METHODS = ["proportional", "even", "fixed"];
export const MAX_DEPTH = 5;
export const ACCOUNT_NAME = "account_name";
const TAG_PREFIX = "tag:";

const CONDITION_KEYS = ["field", "op", "values", "key", "category", "case_sensitive"];
const REGULAR_KEYS = ["kind", "value", "expression"];
const INHERITED_KEYS = ["kind", "inherit_from", "value", "expression"];
const SPLIT_KEYS = ["source", "method", "targets"];
const TARGET_KEYS = ["value", "percent"];

export class Unrepresentable extends Error {
  constructor(path, problem) {
    super(`${path}: ${problem}`);
    this.name = "Unrepresentable";
    this.path = path;
  }
}

const isObject = (data) => data !== null && typeof data === "object" && !Array.isArray(data);

function onlyKeys(data, allowed, path) {
  const extra = Object.keys(data).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new Unrepresentable(`${path}.${extra}`, "unknown part");
}

function text(data, name, path) {
  const value = data[name] ?? "";
  if (typeof value !== "string") throw new Unrepresentable(`${path}.${name}`, "expected a text");
  return value;
}

// --- new parts, as the page adds them ---------------------------------------------------

export function newCondition() {
  return {
    type: "condition",
    negated: false,
    field: "service",
    op: "equals",
    values: [],
    key: "",
    category: "",
    ignoreCase: false,
    caseGiven: false,
  };
}

export function newGroup(combinator = "all") {
  return { type: "group", combinator, negated: false, implicit: false, children: [newCondition()] };
}

export function newRegularRule() {
  return { kind: "regular", value: "", expression: newGroup() };
}

export function newInheritedRule() {
  return { kind: "inherited", source: "tag", tagKey: "" };
}

export function newTarget() {
  return { value: "", percent: "" };
}

export function newSplit() {
  return { source: "", method: "proportional", targets: [newTarget(), newTarget()] };
}

// --- JSON to model ------------------------------------------------------------------------

function parseNode(data, path) {
  if (!isObject(data)) throw new Unrepresentable(path, "expected a condition or all/any/not");
  if ("not" in data) {
    onlyKeys(data, ["not"], path);
    const inner = parseNode(data.not, `${path}.not`);
    // A double "not" cancels out; the page shows one switch per part.
    return { ...inner, negated: !inner.negated };
  }
  for (const combinator of ["all", "any"]) {
    if (combinator in data) {
      onlyKeys(data, [combinator], path);
      const children = data[combinator];
      if (!Array.isArray(children)) {
        throw new Unrepresentable(`${path}.${combinator}`, "expected a list");
      }
      return {
        type: "group",
        combinator,
        negated: false,
        implicit: false,
        children: children.map((child, i) => parseNode(child, `${path}.${combinator}[${i}]`)),
      };
    }
  }
  return parseCondition(data, path);
}

function parseCondition(data, path) {
  onlyKeys(data, CONDITION_KEYS, path);
  const { field, op } = data;
  if (!FIELDS.includes(field)) throw new Unrepresentable(`${path}.field`, "unknown field");
  if (!OPS.includes(op)) throw new Unrepresentable(`${path}.op`, "unknown operator");
  if ("key" in data && field !== "tag") {
    throw new Unrepresentable(`${path}.key`, "only tag conditions take a key");
  }
  if ("category" in data && field !== "category") {
    throw new Unrepresentable(`${path}.category`, "only category conditions name a category");
  }
  if ("values" in data && PRESENCE_OPS.includes(op)) {
    throw new Unrepresentable(`${path}.values`, `"${op}" takes no values`);
  }
  const values = data.values ?? [];
  if (!Array.isArray(values) || !values.every((value) => typeof value === "string")) {
    throw new Unrepresentable(`${path}.values`, "expected a list of texts");
  }
  const caseGiven = "case_sensitive" in data;
  if (caseGiven && typeof data.case_sensitive !== "boolean") {
    throw new Unrepresentable(`${path}.case_sensitive`, "expected true or false");
  }
  return {
    type: "condition",
    negated: false,
    field,
    op,
    values: [...values],
    key: text(data, "key", path),
    category: text(data, "category", path),
    ignoreCase: caseGiven && data.case_sensitive === false,
    caseGiven,
  };
}

// The page always shows a group at the top of a rule; a bare condition is wrapped in an
// "implicit" group that is written back bare while it holds that one condition.
function parseExpression(data, path) {
  if (data === undefined || data === null) return { ...newGroup(), children: [] };
  const node = parseNode(data, path);
  if (node.type === "group") return node;
  return { type: "group", combinator: "all", negated: false, implicit: true, children: [node] };
}

function parseRule(data, index) {
  const path = `rules[${index}]`;
  if (!isObject(data)) throw new Unrepresentable(path, "expected an object");
  const kind = data.kind ?? "regular";
  if (kind === "inherited") {
    onlyKeys(data, INHERITED_KEYS, path);
    if (data.value || data.expression) {
      throw new Unrepresentable(path, "an inherited rule takes no value or expression");
    }
    const source = data.inherit_from;
    if (source === ACCOUNT_NAME) return { kind, source: ACCOUNT_NAME, tagKey: "" };
    if (typeof source === "string" && source.startsWith(TAG_PREFIX)) {
      return { kind, source: "tag", tagKey: source.slice(TAG_PREFIX.length) };
    }
    throw new Unrepresentable(`${path}.inherit_from`, 'expected "tag:<key>" or "account_name"');
  }
  if (kind !== "regular") throw new Unrepresentable(`${path}.kind`, "unknown kind");
  onlyKeys(data, REGULAR_KEYS, path);
  return {
    kind,
    value: text(data, "value", path),
    expression: parseExpression(data.expression, `${path}.expression`),
  };
}

function parsePercent(percent, path) {
  if (percent === undefined || percent === null) return "";
  if (typeof percent === "string") return percent;
  if (typeof percent === "number" && Number.isFinite(percent)) return String(percent);
  throw new Unrepresentable(path, "expected a percentage");
}

function parseSplit(data, index) {
  const path = `splits[${index}]`;
  if (!isObject(data)) throw new Unrepresentable(path, "expected an object");
  onlyKeys(data, SPLIT_KEYS, path);
  if (!METHODS.includes(data.method)) throw new Unrepresentable(`${path}.method`, "unknown method");
  if (!Array.isArray(data.targets)) throw new Unrepresentable(`${path}.targets`, "expected a list");
  const targets = data.targets.map((target, i) => {
    const where = `${path}.targets[${i}]`;
    if (!isObject(target)) throw new Unrepresentable(where, "expected an object");
    onlyKeys(target, TARGET_KEYS, where);
    if (data.method !== "fixed" && target.percent != null) {
      throw new Unrepresentable(`${where}.percent`, "only fixed splits take percentages");
    }
    return { value: text(target, "value", where), percent: parsePercent(target.percent, where) };
  });
  return { source: text(data, "source", path), method: data.method, targets };
}

function parseList(jsonText, what) {
  let data;
  try {
    data = JSON.parse(jsonText.trim() || "[]");
  } catch (error) {
    throw new Unrepresentable(what, `not valid JSON (${error.message})`);
  }
  if (!Array.isArray(data)) throw new Unrepresentable(what, "expected a list");
  return data;
}

export function rulesFromJson(jsonText) {
  return parseList(jsonText, "rules").map(parseRule);
}

export function splitsFromJson(jsonText) {
  return parseList(jsonText, "splits").map(parseSplit);
}

// --- model to JSON ------------------------------------------------------------------------

function conditionData(condition) {
  const data = { field: condition.field };
  if (condition.field === "tag") data.key = condition.key;
  if (condition.field === "category") data.category = condition.category;
  data.op = condition.op;
  if (!PRESENCE_OPS.includes(condition.op)) data.values = [...condition.values];
  if (condition.ignoreCase) data.case_sensitive = false;
  else if (condition.caseGiven) data.case_sensitive = true;
  return data;
}

function nodeData(node) {
  const data =
    node.type === "group"
      ? { [node.combinator]: node.children.map(nodeData) }
      : conditionData(node);
  return node.negated ? { not: data } : data;
}

export function expressionData(group) {
  const bare = group.implicit && !group.negated && group.children.length === 1;
  return bare ? nodeData(group.children[0]) : nodeData(group);
}

function ruleData(rule) {
  if (rule.kind === "inherited") {
    const source = rule.source === ACCOUNT_NAME ? ACCOUNT_NAME : `${TAG_PREFIX}${rule.tagKey}`;
    return { kind: "inherited", inherit_from: source };
  }
  return { kind: "regular", value: rule.value, expression: expressionData(rule.expression) };
}

function splitData(split) {
  const fixed = split.method === "fixed";
  return {
    source: split.source,
    method: split.method,
    targets: split.targets.map((target) =>
      fixed ? { value: target.value, percent: target.percent } : { value: target.value },
    ),
  };
}

export function rulesToJson(rules) {
  return JSON.stringify(rules.map(ruleData), null, 2);
}

export function splitsToJson(splits) {
  return JSON.stringify(splits.map(splitData), null, 2);
}

// --- edits with defaults --------------------------------------------------------------------

// A new field drops the parts only the old field had: a tag key, a category name.
export function withField(condition, field) {
  return {
    ...condition,
    field,
    key: field === "tag" ? condition.key : "",
    category: field === "category" ? condition.category : "",
  };
}

// "present" and "absent" take no values; "is" keeps only the first one.
export function withOp(condition, op) {
  let values = condition.values;
  if (PRESENCE_OPS.includes(op)) values = [];
  else if (op === "equals") values = values.slice(0, 1);
  return { ...condition, op, values };
}

export const takesValues = (op) => VALUE_OPS.includes(op);

// Values typed one per line, or comma-separated on one line.
export function parseValues(typed) {
  const parts = typed.includes("\n") ? typed.split("\n") : typed.split(",");
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

export function valuesText(values) {
  return values.some((value) => value.includes(",")) ? values.join("\n") : values.join(", ");
}

// The sum of a fixed split's percentages, in exact decimals as the server adds them.
export function percentSum(targets) {
  let scale = 0;
  const parsed = [];
  let valid = true;
  for (const { percent } of targets) {
    const match = /^\s*(\d*)(?:\.(\d*))?\s*$/.exec(String(percent ?? ""));
    if (!match || (match[1] === "" && !match[2])) {
      valid = false;
      continue;
    }
    const fraction = match[2] ?? "";
    scale = Math.max(scale, fraction.length);
    parsed.push([match[1] || "0", fraction]);
  }
  let total = 0n;
  for (const [whole, fraction] of parsed) {
    total += BigInt(whole + fraction.padEnd(scale, "0"));
  }
  const digits = total.toString().padStart(scale + 1, "0");
  let sum = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  if (scale) sum = sum.replace(/\.?0+$/, "");
  return { sum, valid, complete: valid && total === 100n * 10n ** BigInt(scale) };
}
