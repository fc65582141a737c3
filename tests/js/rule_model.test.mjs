// The rule builder's model: JSON in, the same JSON out; defaults when a condition changes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Unrepresentable,
  newRegularRule,
  parseValues,
  percentSum,
  rulesFromJson,
  rulesToJson,
  splitsFromJson,
  splitsToJson,
  valuesText,
  withField,
  withOp,
} from "../../static/allocation/rule_model.js";

const roundTripRules = (rules) => JSON.parse(rulesToJson(rulesFromJson(JSON.stringify(rules))));
const roundTripSplits = (splits) =>
  JSON.parse(splitsToJson(splitsFromJson(JSON.stringify(splits))));

test("nested any, all and not come back unchanged", () => {
  const rules = [
    {
      kind: "regular",
      value: "Platform",
      expression: {
        any: [
          {
            all: [
              { field: "service", op: "starts_with", values: ["Amazon"] },
              { not: { field: "region", op: "one_of", values: ["us-east-1", "eu-west-1"] } },
            ],
          },
          { not: { any: [{ field: "account", op: "equals", values: ["123456789012"] }] } },
          { field: "usage_type", op: "contains", values: ["Box"], case_sensitive: true },
        ],
      },
    },
  ];
  assert.deepEqual(roundTripRules(rules), rules);
});

test("a tag condition keeps its key and ignore case", () => {
  const rules = [
    {
      kind: "regular",
      value: "Data",
      expression: {
        all: [{ field: "tag", key: "team", op: "equals", values: ["data"], case_sensitive: false }],
      },
    },
  ];
  const [rule] = rulesFromJson(JSON.stringify(rules));
  assert.equal(rule.expression.children[0].key, "team");
  assert.equal(rule.expression.children[0].ignoreCase, true);
  assert.deepEqual(roundTripRules(rules), rules);
});

test("a category condition keeps its category", () => {
  const rules = [
    {
      kind: "regular",
      value: "Shared",
      expression: {
        all: [{ field: "category", category: "Environment", op: "one_of", values: ["prod", "stage"] }],
      },
    },
  ];
  assert.deepEqual(roundTripRules(rules), rules);
});

test("present and absent are written without values", () => {
  const rules = [
    {
      kind: "regular",
      value: "Tagged",
      expression: {
        all: [
          { field: "tag", key: "owner", op: "present" },
          { field: "charge_category", op: "absent", case_sensitive: true },
        ],
      },
    },
  ];
  assert.deepEqual(roundTripRules(rules), rules);
});

test("a bare condition or a bare not stays bare", () => {
  const rules = [
    { kind: "regular", value: "Web", expression: { field: "service", op: "equals", values: ["S3"] } },
    { kind: "regular", value: "Other", expression: { not: { field: "payer", op: "present" } } },
  ];
  assert.deepEqual(roundTripRules(rules), rules);
});

test("a bare condition becomes a group once a second one is added", () => {
  const [rule] = rulesFromJson(
    JSON.stringify([{ value: "Web", expression: { field: "service", op: "equals", values: ["S3"] } }]),
  );
  rule.expression.children.push(withOp(withField(rule.expression.children[0], "region"), "present"));
  assert.deepEqual(JSON.parse(rulesToJson([rule]))[0].expression, {
    all: [
      { field: "service", op: "equals", values: ["S3"] },
      { field: "region", op: "present" },
    ],
  });
});

test("inherited rules come back unchanged", () => {
  const rules = [
    { kind: "inherited", inherit_from: "tag:team" },
    { kind: "inherited", inherit_from: "account_name" },
  ];
  assert.deepEqual(roundTripRules(rules), rules);
});

test("splits of each method come back unchanged", () => {
  const splits = [
    { source: "Shared", method: "proportional", targets: [{ value: "Web" }, { value: "Data" }] },
    { source: "Support", method: "even", targets: [{ value: "Web" }, { value: "Data" }] },
    {
      source: "Network",
      method: "fixed",
      targets: [
        { value: "Web", percent: "60" },
        { value: "Data", percent: "40" },
      ],
    },
  ];
  assert.deepEqual(roundTripSplits(splits), splits);
});

test("a split keeps percentages aside while it is not fixed", () => {
  const [split] = splitsFromJson(
    JSON.stringify([{ source: "S", method: "fixed", targets: [{ value: "A", percent: "100" }] }]),
  );
  split.method = "even";
  assert.deepEqual(JSON.parse(splitsToJson([split]))[0].targets, [{ value: "A" }]);
  split.method = "fixed";
  assert.deepEqual(JSON.parse(splitsToJson([split]))[0].targets, [{ value: "A", percent: "100" }]);
});

test("empty text boxes are empty lists", () => {
  assert.deepEqual(rulesFromJson(""), []);
  assert.deepEqual(splitsFromJson("  "), []);
});

test("what the builder cannot show is refused, naming where", () => {
  const refused = [
    ["{", "rules"],
    ['{"kind": "regular"}', "rules"],
    ['[{"value": "A", "expression": {"field": "service", "op": "equals", "colour": 1}}]', "colour"],
    ['[{"value": "A", "expression": {"field": "servce", "op": "equals"}}]', "field"],
    ['[{"value": "A", "expression": {"field": "tag", "op": "present", "values": []}}]', "values"],
    ['[{"value": "A", "expression": {"field": "service", "key": "x", "op": "present"}}]', "key"],
    ['[{"kind": "inherited", "inherit_from": "team"}]', "inherit_from"],
    ['[{"value": "A", "position": 1, "expression": {"all": []}}]', "position"],
  ];
  for (const [text, where] of refused) {
    assert.throws(() => rulesFromJson(text), (error) => {
      assert.ok(error instanceof Unrepresentable, text);
      assert.match(error.message, new RegExp(where), text);
      return true;
    });
  }
  assert.throws(
    () => splitsFromJson('[{"source": "S", "method": "even", "targets": [{"value": "A", "percent": "5"}]}]'),
    Unrepresentable,
  );
});

test("a new regular rule starts with one condition in an all group", () => {
  const data = JSON.parse(rulesToJson([newRegularRule()]));
  assert.deepEqual(data, [
    { kind: "regular", value: "", expression: { all: [{ field: "service", op: "equals", values: [] }] } },
  ]);
});

test("changing the field drops the tag key and category", () => {
  const tag = { ...rulesFromJson('[{"value": "A", "expression": {"field": "tag", "key": "team", "op": "present"}}]')[0].expression.children[0] };
  const service = withField(tag, "service");
  assert.equal(service.key, "");
  assert.equal(withField(tag, "tag").key, "team");
  const category = withField({ ...service, category: "Env" }, "category");
  assert.equal(category.category, "Env");
  assert.equal(withField(category, "region").category, "");
});

test("changing the operator fits the values to it", () => {
  const condition = { type: "condition", field: "service", op: "one_of", values: ["A", "B"] };
  assert.deepEqual(withOp(condition, "contains").values, ["A", "B"]);
  assert.deepEqual(withOp(condition, "equals").values, ["A"]);
  assert.deepEqual(withOp(condition, "absent").values, []);
});

test("values are typed comma-separated or one per line", () => {
  assert.deepEqual(parseValues(" a, b ,,c "), ["a", "b", "c"]);
  assert.deepEqual(parseValues("Amazon, Inc.\nOther\n"), ["Amazon, Inc.", "Other"]);
  assert.equal(valuesText(["a", "b"]), "a, b");
  assert.equal(valuesText(["Amazon, Inc.", "Other"]), "Amazon, Inc.\nOther");
});

test("percentages add up exactly", () => {
  const sum = (...percents) => percentSum(percents.map((percent) => ({ value: "x", percent })));
  assert.deepEqual(sum("33.33", "33.33", "33.34"), { sum: "100", valid: true, complete: true });
  assert.deepEqual(sum("0.1", "0.2"), { sum: "0.3", valid: true, complete: false });
  assert.deepEqual(sum("60", ""), { sum: "60", valid: false, complete: false });
  assert.deepEqual(sum("50", "abc", "50"), { sum: "100", valid: false, complete: false });
  assert.deepEqual(sum("12.50", "87.5"), { sum: "100", valid: true, complete: true });
  assert.deepEqual(sum(), { sum: "0", valid: true, complete: false });
});
