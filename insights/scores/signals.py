"""Which efficiency signals a cost is eligible for, read from its service, usage type,
operation and commitment.

Pure functions, no database. The rules and saving rates are those of AWS's KPI dashboards
("Efficiency signals" in BILLING-DATA.md). The tag and budget components are not visible in
these columns; the caller decides those.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

COMPONENTS = (
    "commitment_coverage",
    "graviton",
    "current_generation",
    "spot",
    "ebs_volume_type",
    "s3_storage_class",
    "tag_compliance",
    "budget_adherence",
)

ZERO = Decimal("0")
COMMITMENT_SAVING = Decimal("0.20")
GRAVITON_FROM_INTEL = Decimal("0.20")
GRAVITON_FROM_AMD = Decimal("0.10")
GRAVITON_RDS = Decimal("0.10")
GRAVITON_CACHE_SEARCH = Decimal("0.05")  # ElastiCache, OpenSearch
CURRENT_GENERATION_SAVING = Decimal("0.05")
SPOT_SAVING = Decimal("0.55")
GP3_SAVING = Decimal("0.20")
IO2_SAVING = Decimal("0.10")
S3_STANDARD_SAVING = Decimal("0.45")


@dataclass(frozen=True)
class Hit:
    component: str  # one of COMPONENTS
    efficient: bool  # the cost is already the efficient option
    saving_rate: Decimal  # share of this cost saved by the efficient option (0 if efficient)
    current: str  # e.g. "m5.xlarge", "gp2", "S3 Standard", "on-demand"
    suggested: str  # the efficient option; equal to current when already efficient


def _hit(component: str, efficient: bool, rate: Decimal, current: str, better: str) -> Hit:
    if efficient:
        return Hit(component, True, ZERO, current, current)
    return Hit(component, False, rate, current, better)


# Services, as CUR's product codes or FOCUS's / CUR's product names ---------------------

_SERVICES = {
    "ec2": ("AmazonEC2", "Amazon Elastic Compute Cloud", "Amazon EC2", "EC2",
            "Amazon Elastic Block Store", "EC2 - Other"),
    "s3": ("AmazonS3", "Amazon Simple Storage Service", "Amazon S3", "S3"),
    "lambda": ("AWSLambda", "AWS Lambda", "Lambda"),
    "fargate": ("AmazonECS", "Amazon Elastic Container Service", "Amazon EC2 Container Service",
                "AmazonEKS", "Amazon Elastic Kubernetes Service", "AWS Fargate"),
    "rds": ("AmazonRDS", "Amazon Relational Database Service", "Amazon RDS", "RDS",
            "Amazon Aurora"),
    "elasticache": ("AmazonElastiCache", "Amazon ElastiCache", "ElastiCache"),
    "opensearch": ("AmazonES", "Amazon OpenSearch Service", "Amazon Elasticsearch Service",
                   "OpenSearch Service"),
    "redshift": ("AmazonRedshift", "Amazon Redshift", "Redshift"),
    "sagemaker": ("AmazonSageMaker", "Amazon SageMaker", "Amazon SageMaker AI", "SageMaker"),
    "dynamodb": ("AmazonDynamoDB", "Amazon DynamoDB", "DynamoDB"),
}  # fmt: skip


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_SERVICE_KEYS = {_squash(name): key for key, names in _SERVICES.items() for name in names}

# "USE1-", "EU-", "APS2-", and a local zone's "LAX1-" after its region's.
_REGION_PREFIX = re.compile(r"^[A-Z]{2,4}[0-9]?-")


def strip_region(usage_type: str) -> str:
    """`USE1-BoxUsage:m5.large` -> `BoxUsage:m5.large`."""
    usage = usage_type.strip()
    while (match := _REGION_PREFIX.match(usage)) and match.end() < len(usage):
        usage = usage[match.end() :]
    return usage


# Instance families ----------------------------------------------------------------------

_FAMILY = re.compile(r"^(?P<cls>[a-z]+)(?P<gen>[0-9]+)(?P<attrs>[a-z-]*)$")


@dataclass(frozen=True)
class Instance:
    family: str  # "m5", "c7gn", "r6g"
    size: str  # "xlarge", "" when the usage type names only the family
    cls: str  # the letters before the generation digit: "m", "im", "mac"
    attrs: str  # the letters after it: "", "a", "gd", "i-flex"

    @property
    def graviton(self) -> bool:
        return self.attrs.startswith("g")

    @property
    def amd(self) -> bool:
        return self.attrs.startswith("a")

    def named(self, family: str) -> str:
        return f"{family}.{self.size}" if self.size else family

    def __str__(self) -> str:
        return self.named(self.family)


def parse_instance(instance_type: str) -> Instance | None:
    """`m5.xlarge` -> family m5, size xlarge; None when the type is not an instance type."""
    family, _, size = instance_type.strip().partition(".")
    match = _FAMILY.match(family)
    if match is None:
        return None
    return Instance(family, size, match["cls"], match["attrs"])


# The newest Graviton family of each class with one, per service.
_EC2_GRAVITON = {"m": "m7g", "c": "c7g", "r": "r7g", "t": "t4g", "x": "x2gd", "i": "im4gn",
                 "im": "im4gn", "is": "is4gen"}  # fmt: skip
_RDS_GRAVITON = {"m": "m7g", "r": "r7g", "t": "t4g", "x": "x2g"}
_CACHE_GRAVITON = {"m": "m7g", "r": "r7g", "t": "t4g"}
_SEARCH_GRAVITON = {"m": "m7g", "c": "c7g", "r": "r7g", "i": "im4gn", "im": "im4gn"}

# Previous-generation EC2 families and their current equivalents.
_CURRENT_EQUIVALENT = {
    "m1": "m6i", "m2": "r6i", "m3": "m6i", "m4": "m6i", "c1": "c6i", "cc2": "c6i",
    "c3": "c6i", "c4": "c6i", "cr1": "r6i", "r3": "r6i", "r4": "r6i", "t1": "t3", "t2": "t3",
    "i2": "i4i", "hi1": "i4i", "d2": "d3", "hs1": "d3", "g2": "g4dn", "g3": "g4dn",
    "g3s": "g4dn", "cg1": "g4dn", "p2": "p3", "x1": "x2iedn", "x1e": "x2iedn", "a1": "m6g",
}  # fmt: skip


def _graviton(
    instance: Instance, table: dict[str, str], rate: Decimal | None, prefix: str, suffix: str
) -> Hit | None:
    """The graviton hit of an instance whose class has a Graviton family in `table`; rate
    None means EC2's: 20% from Intel, 10% from AMD."""
    current = prefix + str(instance) + suffix
    if instance.graviton:
        return _hit("graviton", True, ZERO, current, current)
    newer = table.get(instance.cls)
    if newer is None:
        return None
    if rate is None:
        rate = GRAVITON_FROM_AMD if instance.amd else GRAVITON_FROM_INTEL
    return _hit("graviton", False, rate, current, prefix + instance.named(newer) + suffix)


def _commitment() -> Hit:
    return _hit("commitment_coverage", False, COMMITMENT_SAVING, "on-demand", "Savings Plan")


# Rules: each reads a usage type without its region, None when the rule does not apply ----

_EC2_ON_DEMAND = ("BoxUsage", "DedicatedUsage", "HostUsage")


def _ec2_instance(usage: str) -> list[Hit] | None:
    kind, _, instance_type = usage.partition(":")
    if kind not in (*_EC2_ON_DEMAND, "SpotUsage"):
        return None
    instance = parse_instance(instance_type)
    if instance is None:
        return None
    spot = kind == "SpotUsage"
    hits = [] if spot else [_commitment()]
    if (graviton := _graviton(instance, _EC2_GRAVITON, None, "", "")) is not None:
        hits.append(graviton)
    if not spot:
        newer = _CURRENT_EQUIVALENT.get(instance.family)
        current = str(instance)
        hits.append(
            _hit("current_generation", newer is None, CURRENT_GENERATION_SAVING, current,
                 instance.named(newer or instance.family))
        )  # fmt: skip
    hits.append(_hit("spot", spot, SPOT_SAVING, "Spot" if spot else "on-demand", "Spot"))
    return hits


def _ebs(usage: str) -> list[Hit] | None:
    if usage == "EBS:VolumeUsage":  # magnetic
        return [_hit("ebs_volume_type", False, GP3_SAVING, "magnetic", "gp3")]
    volume = usage.removeprefix("EBS:VolumeUsage.")
    if volume == usage:
        return None
    found = {
        "gp2": (False, GP3_SAVING, "gp2", "gp3"),
        "gp3": (True, ZERO, "gp3", "gp3"),
        "piops": (False, IO2_SAVING, "io1", "io2"),
        "io1": (False, IO2_SAVING, "io1", "io2"),
        "io2": (True, ZERO, "io2", "io2"),
    }.get(volume)
    return None if found is None else [_hit("ebs_volume_type", *found)]


_S3_CLASSES = {
    "": "S3 Standard",
    "INT": "S3 Intelligent-Tiering",
    "SIA": "S3 Standard-IA",
    "ZIA": "S3 One Zone-IA",
    "GIR": "S3 Glacier Instant Retrieval",
    "Glacier": "S3 Glacier Flexible Retrieval",
    "GDA": "S3 Glacier Deep Archive",
    "RRS": "S3 Reduced Redundancy",
    "XZ": "S3 Express One Zone",
}
_S3_STANDARD_LIKE = ("", "RRS")  # reduced redundancy costs more than Standard nowadays


def _s3(usage: str) -> list[Hit] | None:
    if not usage.startswith("TimedStorage-"):
        return None
    rest = usage.removeprefix("TimedStorage-")
    code = "" if rest == "ByteHrs" else re.split(r"[-_]|ByteHrs", rest)[0]
    label = _S3_CLASSES.get(code, f"S3 {code}")
    efficient = code not in _S3_STANDARD_LIKE
    return [_hit("s3_storage_class", efficient, S3_STANDARD_SAVING, label,
                 "S3 Intelligent-Tiering")]  # fmt: skip


def _lambda(usage: str) -> list[Hit] | None:
    if not usage.startswith(("Lambda-GB-Second", "Lambda-Provisioned-")):
        return None
    arm = "ARM" in usage
    graviton = _hit("graviton", arm, GRAVITON_FROM_INTEL, "arm64" if arm else "x86_64", "arm64")
    return [_commitment(), graviton]


def _fargate(usage: str) -> list[Hit] | None:
    if usage.startswith("Fargate-") and ("vCPU-Hours" in usage or usage.endswith("GB-Hours")):
        return None if "Ephemeral" in usage else [_commitment()]
    return None


def _database(
    kinds: tuple[str, ...], head: str, tail: str, table: dict[str, str], rate: Decimal
) -> Callable[[str], list[Hit] | None]:
    """Instance usage of a managed database: `<kind>:<head><family>.<size><tail>`."""

    def rule(usage: str) -> list[Hit] | None:
        kind, _, instance_type = usage.partition(":")
        if kind not in kinds or not instance_type.startswith(head):
            return None
        instance = parse_instance(instance_type.removeprefix(head).removesuffix(tail))
        if instance is None:
            return None
        graviton = _graviton(instance, table, rate, head, tail)
        return [_commitment()] if graviton is None else [_commitment(), graviton]

    return rule


def _other_compute(usage: str) -> list[Hit] | None:
    """Redshift nodes, SageMaker instances, DynamoDB provisioned capacity."""
    kind, _, instance_type = usage.partition(":")
    if kind == "Node" or instance_type.startswith("ml."):
        return [_commitment()]
    if usage in ("ReadCapacityUnit-Hrs", "WriteCapacityUnit-Hrs"):
        return [_commitment()]
    return None


_RDS_KINDS = ("InstanceUsage", "Multi-AZUsage", "InstanceUsageIOOptimized",
              "Multi-AZUsageIOOptimized", "Multi-AZClusterUsage")  # fmt: skip

_RULES: tuple[tuple[frozenset[str], Callable[[str], list[Hit] | None]], ...] = (
    (frozenset({"ec2"}), _ec2_instance),
    (frozenset({"ec2"}), _ebs),
    (frozenset({"s3"}), _s3),
    (frozenset({"lambda"}), _lambda),
    (frozenset({"fargate"}), _fargate),
    (frozenset({"rds"}), _database(_RDS_KINDS, "db.", "", _RDS_GRAVITON, GRAVITON_RDS)),
    (frozenset({"elasticache"}),
     _database(("NodeUsage",), "cache.", "", _CACHE_GRAVITON, GRAVITON_CACHE_SEARCH)),
    (frozenset({"opensearch"}),
     _database(("ESInstance",), "", ".search", _SEARCH_GRAVITON, GRAVITON_CACHE_SEARCH)),
    (frozenset({"redshift", "sagemaker", "dynamodb"}), _other_compute),
)  # fmt: skip


def classify(
    service_name: str | None,
    usage_type: str | None,
    operation: str | None = None,
    commitment: str | None = None,
) -> list[Hit]:
    """The components a cost of this service and usage type is eligible for (none: not
    eligible). A service we know that contradicts the usage type gives none; a service we do
    not know (or None) leaves the decision to the usage type.

    `operation` (CUR's lineItem/Operation) tells the EC2 platform and the RDS engine: only
    Linux instances and the open-source engines have a Graviton equivalent; without it they
    are taken to have one. `commitment` (the commitment discount type covering the cost, if
    any) makes the cost covered: efficient for commitment coverage, and neither on-demand
    (Spot's base) nor, for a reservation, a candidate for a newer generation.
    """
    if not usage_type or not usage_type.strip():
        return []
    hits = list(_classify_usage(_squash(service_name or ""), strip_region(usage_type)))
    if operation and not _graviton_platform(operation):
        hits = [hit for hit in hits if hit.component != "graviton"]
    if commitment:
        hits = _covered(hits, commitment)
    return hits


@lru_cache(maxsize=4096)
def _classify_usage(squashed_service: str, usage: str) -> tuple[Hit, ...]:
    service = _SERVICE_KEYS.get(squashed_service)
    for services, rule in _RULES:
        if service is not None and service not in services:
            continue
        hits = rule(usage)
        if hits is not None:
            return tuple(hits)
    return ()


# RDS engines with Graviton instances: MySQL, PostgreSQL, Aurora MySQL, MariaDB, Aurora
# PostgreSQL (CreateDBInstance:<code>).
_RDS_GRAVITON_ENGINES = frozenset({"0002", "0014", "0016", "0018", "0021"})


def _graviton_platform(operation: str) -> bool:
    """Whether the platform or engine named by `operation` has Graviton instances."""
    name, _, code = operation.strip().partition(":")
    if name == "RunInstances":  # Linux/UNIX is RunInstances or RunInstances:0000
        return code in ("", "0000")
    if name == "CreateDBInstance":
        return code in _RDS_GRAVITON_ENGINES or code == ""
    return True


def _covered(hits: list[Hit], commitment: str) -> list[Hit]:
    covered = []
    for hit in hits:
        if hit.component == "commitment_coverage":
            covered.append(_hit("commitment_coverage", True, ZERO, commitment, commitment))
        elif hit.component == "spot" or (
            hit.component == "current_generation" and "reserv" in commitment.lower()
        ):
            continue
        else:
            covered.append(hit)
    return covered
