"""The rules of the allocation benchmark: 50 realistic rules, a referenced category, 3 splits."""

from __future__ import annotations

from typing import Any

from bench.common import PAYER

TEAM = "Bench team"
ENV = "Bench env"
ACCOUNTS = ("026411943737", "612845070863", "140049190890", "778932921074", PAYER)


def cond(field: str, op: str, *values: str, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field, "op": op, **extra}
    if values:
        node["values"] = list(values)
    return node


def tag(key: str, op: str, *values: str, **extra: Any) -> dict[str, Any]:
    return cond("tag", op, *values, key=key, **extra)


def rule(value: str, expression: dict[str, Any]) -> dict[str, Any]:
    return {"value": value, "expression": expression}


def env_rules() -> list[dict[str, Any]]:
    """The small category the team rules look at."""
    return [
        rule("Production", tag("env", "equals", "prod")),
        rule("Non-production", tag("env", "one_of", "staging", "dev", "test")),
        rule("Production", cond("account", "equals", PAYER)),
        rule("Non-production", cond("account", "starts_with", "7789")),
    ]


def team_rules() -> list[dict[str, Any]]:
    """50 rules of the kinds a FinOps team writes, most specific first."""
    rules = [
        rule("Support", cond("service", "starts_with", "AWS Support")),
        rule("Support", cond("charge_category", "one_of", "Tax", "Credit")),
        rule("Shared platform", cond("service", "starts_with", "Savings Plans")),
        rule(
            "Payments",
            {"all": [tag("team", "equals", "payments"), tag("env", "equals", "prod")]},
        ),
        rule(
            "Search",
            {
                "all": [
                    tag("team", "equals", "search"),
                    cond("category", "equals", "Production", category=ENV),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    tag("cost-center", "equals", "CC-1001"),
                    cond("service", "starts_with", "Amazon Relational"),
                ]
            },
        ),
        rule("Platform", tag("cost-center", "equals", "cc-3300", case_sensitive=False)),
        rule("Shared data", tag("cost-center", "one_of", "CC 4000, Shared", "CC-4000")),
        rule("Shared platform", cond("usage_type", "contains", "NatGateway")),
        rule(
            "Shared platform",
            {
                "all": [
                    cond("usage_type", "contains", "DataTransfer-Regional"),
                    cond("region", "one_of", "us-east-1", "us-west-2"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[2]),
                    cond("service", "one_of", "Amazon Relational Database Service"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "all": [
                    cond("usage_type", "contains", "p3.", "g5.", "inf1."),
                    cond("region", "equals", "us-west-2"),
                ]
            },
        ),
        rule(
            "Web",
            {"any": [tag("team", "equals", "web"), tag("team", "equals", "frontend")]},
        ),
        rule(
            "Data",
            {
                "all": [
                    tag("team", "one_of", "data", "analytics"),
                    {"not": tag("env", "equals", "dev")},
                ]
            },
        ),
        rule(
            "Search",
            {"all": [tag("team", "equals", "SEARCH", case_sensitive=False), tag("env", "present")]},
        ),
        rule("Shared platform", cond("service", "equals", "AmazonCloudWatch")),
        rule(
            "Platform",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[4]),
                    cond("service", "starts_with", "Amazon Elastic"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "all": [
                    tag("team", "equals", "ml"),
                    cond("category", "equals", "Non-production", category=ENV),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    cond("account", "one_of", ACCOUNTS[0], ACCOUNTS[1]),
                    tag("cost-center", "equals", "CC-1001"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("service", "starts_with", "Amazon Simple Storage"),
                    cond("usage_type", "contains", "TimedStorage-GlacierByteHrs"),
                ]
            },
        ),
        rule(
            "Platform",
            {
                "any": [
                    cond("usage_type", "starts_with", "EKS"),
                    cond("usage_type", "contains", "AmazonEKS"),
                ]
            },
        ),
        rule(
            "Shared platform",
            {"all": [cond("region", "absent"), cond("charge_category", "equals", "Usage")]},
        ),
        rule(
            "Web",
            {
                "all": [
                    cond("service", "equals", "AWS Lambda"),
                    tag("team", "one_of", "web", "frontend", "mobile"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("region", "starts_with", "eu-"),
                    tag("cost-center", "equals", "CC-2040"),
                ]
            },
        ),
        rule(
            "Search",
            {
                "all": [
                    cond("usage_type", "contains", "es.", "OpenSearch"),
                    cond("account", "one_of", ACCOUNTS[1], ACCOUNTS[3]),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    cond("region", "equals", "eu-central-1"),
                    tag("team", "equals", "payments"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "any": [
                    cond("usage_type", "contains", "SageMaker"),
                    cond("service", "starts_with", "Amazon SageMaker"),
                ]
            },
        ),
        rule(
            "Platform",
            {
                "all": [
                    tag("team", "equals", "platform"),
                    {
                        "any": [
                            cond("usage_type", "contains", "BoxUsage"),
                            cond("usage_type", "contains", "EBS:"),
                        ]
                    },
                ]
            },
        ),
        rule(
            "Shared data",
            {
                "all": [
                    cond("service", "equals", "Amazon Simple Storage Service"),
                    tag("team", "absent"),
                ]
            },
        ),
        rule(
            "Web",
            {
                "all": [
                    cond("usage_type", "contains", "CloudFront", "DataTransfer-Out"),
                    cond("account", "equals", ACCOUNTS[3]),
                ]
            },
        ),
        rule(
            "Search",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[1]),
                    cond("region", "one_of", "ap-southeast-2", "eu-west-1"),
                    tag("env", "equals", "prod"),
                ]
            },
        ),
        rule(
            "Data",
            {
                "all": [
                    cond("service", "ends_with", "Database Service"),
                    tag("env", "one_of", "prod", "staging"),
                ]
            },
        ),
        rule(
            "Shared platform",
            {
                "all": [
                    cond("payer", "equals", PAYER),
                    cond("usage_type", "ends_with", "-Bytes"),
                    tag("team", "absent"),
                ]
            },
        ),
        rule(
            "ML",
            {
                "all": [
                    cond("usage_type", "contains", "c5.2xlarge", "r5.xlarge"),
                    tag("cost-center", "equals", "CC 4000, Shared"),
                ]
            },
        ),
        rule(
            "Payments",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[0]),
                    cond("service", "equals", "AWS Lambda"),
                    {"not": tag("team", "present")},
                ]
            },
        ),
        rule("Platform", cond("usage_type", "starts_with", "EUC1-EBS", "APS2-EBS")),
        rule(
            "Web",
            {
                "all": [
                    cond("region", "equals", "us-east-1"),
                    cond("usage_type", "contains", "t3.micro"),
                    cond("category", "equals", "Production", category=ENV),
                ]
            },
        ),
        rule(
            "Data",
            {
                "any": [
                    tag("cost-center", "starts_with", "CC-20"),
                    tag("team", "equals", "DATA", case_sensitive=False),
                ]
            },
        ),
        rule(
            "Search",
            {
                "all": [
                    cond("service", "starts_with", "Amazon Elastic Compute"),
                    cond("usage_type", "contains", "m6g."),
                    cond("account", "equals", ACCOUNTS[3]),
                ]
            },
        ),
        rule(
            "Shared platform",
            {"all": [cond("charge_category", "equals", "Purchase"), tag("team", "absent")]},
        ),
        rule(
            "Platform",
            {
                "all": [
                    cond("account", "one_of", ACCOUNTS[2], ACCOUNTS[3]),
                    cond("service", "equals", "AmazonCloudWatch"),
                ]
            },
        ),
        rule(
            "Web",
            {"all": [tag("env", "equals", "dev"), cond("service", "equals", "AWS Lambda")]},
        ),
        {"kind": "inherited", "inherit_from": "tag:team"},
        rule(
            "Shared platform",
            {
                "all": [
                    cond("service", "starts_with", "AWS Data"),
                    cond("region", "one_of", "us-east-1", "us-west-2", "eu-west-1"),
                ]
            },
        ),
        {"kind": "inherited", "inherit_from": "tag:cost-center"},
        rule(
            "Platform",
            {
                "all": [
                    cond("account", "equals", ACCOUNTS[0]),
                    cond("usage_type", "contains", "boxusage", case_sensitive=False),
                ]
            },
        ),
        {"kind": "inherited", "inherit_from": "account_name"},
        rule("Shared data", cond("service", "equals", "Amazon Simple Storage Service")),
        rule(
            "Shared platform",
            {
                "any": [
                    cond("category", "equals", "Production", category=ENV),
                    cond("account", "equals", ACCOUNTS[1]),
                ]
            },
        ),
        rule("Support", cond("charge_category", "present")),
    ]
    assert len(rules) == 50, len(rules)
    return rules


SPLITS = [
    {"source": "Shared platform", "method": "proportional", "targets": [
        {"value": "Payments"}, {"value": "Search"}, {"value": "Web"}, {"value": "Platform"},
    ]},
    {"source": "Shared data", "method": "even", "targets": [{"value": "Data"}, {"value": "ML"}]},
    {"source": "Support", "method": "fixed", "targets": [
        {"value": "Platform", "percent": "50"},
        {"value": "Web", "percent": "30"},
        {"value": "Data", "percent": "20"},
    ]},
]  # fmt: skip
