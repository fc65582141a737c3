"""Which efficiency components a cost is eligible for, from its service and usage type, and
what moving to the efficient option would save."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.generator import catalog
from insights.scores.signals import COMPONENTS, Hit, classify, parse_instance, strip_region

D = Decimal
EC2 = "AmazonEC2"
EC2_NAME = "Amazon Elastic Compute Cloud"


def by_component(service: str | None, usage_type: str | None) -> dict[str, Hit]:
    hits = classify(service, usage_type)
    assert len({h.component for h in hits}) == len(hits), "one hit per component"
    return {h.component: h for h in hits}


def test_components_include_the_ones_the_usage_type_cannot_decide() -> None:
    assert COMPONENTS == (
        "commitment_coverage", "graviton", "current_generation", "spot",
        "ebs_volume_type", "s3_storage_class", "tag_compliance", "budget_adherence",
    )  # fmt: skip


# Region prefixes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage_type", "bare"),
    [("USE1-BoxUsage:m5.large", "BoxUsage:m5.large"),
     ("EU-BoxUsage:m5.large", "BoxUsage:m5.large"),
     ("EUC1-EBS:VolumeUsage.gp2", "EBS:VolumeUsage.gp2"),
     ("APS2-TimedStorage-ByteHrs", "TimedStorage-ByteHrs"),
     ("USW2-LAX1-BoxUsage:c5.large", "BoxUsage:c5.large"),  # a local zone
     ("BoxUsage:m5.large", "BoxUsage:m5.large"), ("Lambda-GB-Second", "Lambda-GB-Second"),
     ("EBS:VolumeUsage.gp2", "EBS:VolumeUsage.gp2")],
)  # fmt: skip
def test_strip_region(usage_type: str, bare: str) -> None:
    assert strip_region(usage_type) == bare


@pytest.mark.parametrize("prefix", ["", "USE1-", "USW2-", "EU-", "EUC1-", "APS2-"])
def test_a_region_prefix_changes_nothing(prefix: str) -> None:
    for service, usage in [
        (EC2, "BoxUsage:m5.xlarge"),
        (EC2, "EBS:VolumeUsage.gp2"),
        ("AmazonS3", "TimedStorage-ByteHrs"),
        ("AWSLambda", "Lambda-GB-Second"),
        ("AmazonRDS", "InstanceUsage:db.m5.large"),
    ]:
        assert classify(service, prefix + usage) == classify(service, usage) != []


# EC2 instances ---------------------------------------------------------------------------


def test_m5_xlarge_on_demand_is_eligible_for_four_components() -> None:
    hits = by_component(EC2, "USE1-BoxUsage:m5.xlarge")
    assert hits == {
        "commitment_coverage": Hit("commitment_coverage", False, D("0.20"), "on-demand",
                                   "Savings Plan"),
        "graviton": Hit("graviton", False, D("0.20"), "m5.xlarge", "m7g.xlarge"),
        "current_generation": Hit("current_generation", True, D(0), "m5.xlarge", "m5.xlarge"),
        "spot": Hit("spot", False, D("0.55"), "on-demand", "Spot"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("instance", "efficient", "rate", "suggested"),
    [
        ("m5.large", False, "0.20", "m7g.large"),  # Intel
        ("m6i.2xlarge", False, "0.20", "m7g.2xlarge"),
        ("c5.2xlarge", False, "0.20", "c7g.2xlarge"),
        ("r5.xlarge", False, "0.20", "r7g.xlarge"),
        ("t3.micro", False, "0.20", "t4g.micro"),
        ("x1e.xlarge", False, "0.20", "x2gd.xlarge"),
        ("i3.large", False, "0.20", "im4gn.large"),
        ("m7i-flex.large", False, "0.20", "m7g.large"),
        ("m5a.large", False, "0.10", "m7g.large"),  # AMD
        ("m6a.xlarge", False, "0.10", "m7g.xlarge"),
        ("t3a.small", False, "0.10", "t4g.small"),
        ("c7a.large", False, "0.10", "c7g.large"),
        ("m6g.large", True, "0", "m6g.large"),  # Graviton already
        ("m6gd.large", True, "0", "m6gd.large"),
        ("c7gn.xlarge", True, "0", "c7gn.xlarge"),
        ("r8g.large", True, "0", "r8g.large"),
        ("t4g.nano", True, "0", "t4g.nano"),
        ("x2gd.large", True, "0", "x2gd.large"),
        ("im4gn.large", True, "0", "im4gn.large"),
    ],
)
def test_graviton_of_ec2_instances(
    instance: str, efficient: bool, rate: str, suggested: str
) -> None:
    hit = by_component(EC2_NAME, f"BoxUsage:{instance}")["graviton"]
    assert (hit.efficient, hit.saving_rate, hit.current, hit.suggested) == (
        efficient, D(rate), instance, suggested,
    )  # fmt: skip


@pytest.mark.parametrize(
    "instance", ["mac2.metal", "p3.2xlarge", "g4dn.xlarge", "inf2.xlarge", "trn1.2xlarge",
                 "f1.2xlarge", "vt1.3xlarge", "z1d.large", "hpc7a.96xlarge"],
)  # fmt: skip
def test_families_without_a_graviton_equivalent_are_not_eligible(instance: str) -> None:
    hits = by_component(EC2, f"BoxUsage:{instance}")
    assert "graviton" not in hits
    assert {"commitment_coverage", "spot", "current_generation"} <= hits.keys()


@pytest.mark.parametrize(
    ("instance", "suggested"),
    [("m4.large", "m6i.large"), ("m3.medium", "m6i.medium"), ("c4.xlarge", "c6i.xlarge"),
     ("r4.2xlarge", "r6i.2xlarge"), ("t2.micro", "t3.micro"), ("i2.xlarge", "i4i.xlarge"),
     ("d2.xlarge", "d3.xlarge"), ("x1.16xlarge", "x2iedn.16xlarge"),
     ("g3.4xlarge", "g4dn.4xlarge")],
)  # fmt: skip
def test_previous_generation_families(instance: str, suggested: str) -> None:
    hit = by_component(EC2, f"BoxUsage:{instance}")["current_generation"]
    assert hit == Hit("current_generation", False, D("0.05"), instance, suggested)


@pytest.mark.parametrize(
    "instance", ["m5.large", "m6g.large", "c6i.large", "t3.micro", "r7g.xlarge", "i4i.large"]
)
def test_current_generation_families(instance: str) -> None:
    hit = by_component(EC2, f"BoxUsage:{instance}")["current_generation"]
    assert (hit.efficient, hit.saving_rate) == (True, D(0))


def test_spot_usage_is_efficient_for_spot_and_has_no_commitment_or_generation() -> None:
    hits = by_component(EC2, "USE1-SpotUsage:m5.large")
    assert hits["spot"] == Hit("spot", True, D(0), "Spot", "Spot")
    assert hits["graviton"].suggested == "m7g.large"
    assert hits.keys() == {"spot", "graviton"}
    assert by_component(EC2, "SpotUsage:t2.micro").keys() == {"spot", "graviton"}


@pytest.mark.parametrize("kind", ["BoxUsage", "DedicatedUsage", "HostUsage"])
def test_dedicated_and_host_usage_count_as_on_demand(kind: str) -> None:
    hits = by_component(EC2, f"{kind}:c5.large")
    assert hits.keys() == {"commitment_coverage", "graviton", "current_generation", "spot"}
    assert hits["spot"].current == "on-demand"


def test_host_usage_names_only_the_family() -> None:
    hits = by_component(EC2, "HostUsage:m5")
    assert (hits["graviton"].current, hits["graviton"].suggested) == ("m5", "m7g")


@pytest.mark.parametrize(
    ("instance_type", "family", "size", "cls", "attrs"),
    [("m5.large", "m5", "large", "m", ""), ("c7gn.xlarge", "c7gn", "xlarge", "c", "gn"),
     ("m7i-flex.large", "m7i-flex", "large", "m", "i-flex"),
     ("im4gn.large", "im4gn", "large", "im", "gn"), ("mac2.metal", "mac2", "metal", "mac", ""),
     ("m5", "m5", "", "m", "")],
)  # fmt: skip
def test_parse_instance(instance_type: str, family: str, size: str, cls: str, attrs: str) -> None:
    instance = parse_instance(instance_type)
    assert instance is not None
    assert (instance.family, instance.size, instance.cls, instance.attrs) == (
        family, size, cls, attrs,
    )  # fmt: skip


# Other compute --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "usage_type"),
    [
        ("AWSLambda", "Lambda-GB-Second"),
        ("AWS Lambda", "USE1-Lambda-GB-Second-ARM"),
        ("AmazonECS", "USE1-Fargate-vCPU-Hours:perCPU"),
        ("AmazonECS", "Fargate-GB-Hours"),
        ("AmazonEKS", "EUC1-Fargate-ARM-vCPU-Hours:perCPU"),
        ("AmazonRDS", "InstanceUsage:db.m5.large"),
        ("AmazonRDS", "Multi-AZUsage:db.r6g.xlarge"),
        ("AmazonElastiCache", "NodeUsage:cache.r5.large"),
        ("AmazonES", "ESInstance:r6g.large.search"),
        ("AmazonRedshift", "Node:ra3.xlplus"),
        ("AmazonSageMaker", "Host:ml.m5.xlarge"),
        ("AmazonDynamoDB", "ReadCapacityUnit-Hrs"),
        ("AmazonDynamoDB", "USE1-WriteCapacityUnit-Hrs"),
        (EC2, "BoxUsage:m5.large"),
        (EC2, "DedicatedUsage:m5.large"),
    ],
)
def test_on_demand_compute_is_eligible_for_commitment_coverage(
    service: str, usage_type: str
) -> None:
    # The usage type cannot tell covered from uncovered: the commitment columns decide.
    assert by_component(service, usage_type)["commitment_coverage"] == Hit(
        "commitment_coverage", False, D("0.20"), "on-demand", "Savings Plan"
    )


@pytest.mark.parametrize(
    ("service", "usage_type"),
    [
        (EC2, "SpotUsage:m5.large"),
        (EC2, "HeavyUsage:m5.large"),  # a reservation's own fee
        ("AWSLambda", "Request"),
        ("AmazonECS", "Fargate-EphemeralStorage-GB-Hours"),
        ("AmazonRDS", "RDS:GP2-Storage"),
        ("AmazonDynamoDB", "TimedStorage-ByteHrs"),
        ("AmazonDynamoDB", "ReadRequestUnits"),  # on-demand capacity mode
    ],
)
def test_not_eligible_for_commitment_coverage(service: str, usage_type: str) -> None:
    assert "commitment_coverage" not in by_component(service, usage_type)


@pytest.mark.parametrize(
    ("usage_type", "efficient", "current"),
    [
        ("Lambda-GB-Second", False, "x86_64"),
        ("USE1-Lambda-GB-Second-ARM", True, "arm64"),
        ("Lambda-Provisioned-GB-Second", False, "x86_64"),
    ],
)
def test_lambda_graviton(usage_type: str, efficient: bool, current: str) -> None:
    hit = by_component("AWSLambda", usage_type)["graviton"]
    rate = D(0) if efficient else D("0.20")
    assert hit == Hit("graviton", efficient, rate, current, "arm64" if not efficient else current)


@pytest.mark.parametrize(
    ("service", "usage_type", "efficient", "rate", "current", "suggested"),
    [
        ("AmazonRDS", "InstanceUsage:db.m5.large", False, "0.10", "db.m5.large",
         "db.m7g.large"),
        ("AmazonRDS", "USE1-InstanceUsage:db.r5.2xlarge", False, "0.10", "db.r5.2xlarge",
         "db.r7g.2xlarge"),
        ("AmazonRDS", "InstanceUsage:db.t3.medium", False, "0.10", "db.t3.medium",
         "db.t4g.medium"),
        ("AmazonRDS", "InstanceUsage:db.r6g.large", True, "0", "db.r6g.large", "db.r6g.large"),
        ("AmazonElastiCache", "NodeUsage:cache.r5.large", False, "0.05", "cache.r5.large",
         "cache.r7g.large"),
        ("AmazonElastiCache", "NodeUsage:cache.t4g.micro", True, "0", "cache.t4g.micro",
         "cache.t4g.micro"),
        ("AmazonES", "ESInstance:r5.large.search", False, "0.05", "r5.large.search",
         "r7g.large.search"),
        ("AmazonES", "ESInstance:m6g.large.search", True, "0", "m6g.large.search",
         "m6g.large.search"),
    ],
)  # fmt: skip
def test_managed_database_graviton(
    service: str, usage_type: str, efficient: bool, rate: str, current: str, suggested: str
) -> None:
    hit = by_component(service, usage_type)["graviton"]
    assert hit == Hit("graviton", efficient, D(rate), current, suggested)


def test_redshift_sagemaker_dynamodb_and_fargate_have_no_graviton_component() -> None:
    for service, usage in [
        ("AmazonRedshift", "Node:ra3.xlplus"),
        ("AmazonSageMaker", "Host:ml.m5.xlarge"),
        ("AmazonDynamoDB", "ReadCapacityUnit-Hrs"),
        ("AmazonECS", "Fargate-vCPU-Hours:perCPU"),
    ]:
        assert by_component(service, usage).keys() == {"commitment_coverage"}


# Storage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage_type", "efficient", "rate", "current", "suggested"),
    [
        ("EBS:VolumeUsage.gp2", False, "0.20", "gp2", "gp3"),
        ("USE1-EBS:VolumeUsage.gp2", False, "0.20", "gp2", "gp3"),
        ("EBS:VolumeUsage.gp3", True, "0", "gp3", "gp3"),
        ("EBS:VolumeUsage.piops", False, "0.10", "io1", "io2"),
        ("EBS:VolumeUsage.io2", True, "0", "io2", "io2"),
        ("EBS:VolumeUsage", False, "0.20", "magnetic", "gp3"),
    ],
)
def test_ebs_volume_type(
    usage_type: str, efficient: bool, rate: str, current: str, suggested: str
) -> None:
    assert classify(EC2, usage_type) == [
        Hit("ebs_volume_type", efficient, D(rate), current, suggested)
    ]


@pytest.mark.parametrize(
    "usage_type",
    ["EBS:VolumeUsage.st1", "EBS:VolumeUsage.sc1", "EBS:VolumeUsage.standard",
     "EBS:SnapshotUsage", "EBS:VolumeP-IOPS.piops", "EBS:VolumeP-Throughput.gp3"],
)  # fmt: skip
def test_other_ebs_usage_is_not_eligible(usage_type: str) -> None:
    assert classify(EC2, usage_type) == []


def test_s3_standard_storage_could_move_to_intelligent_tiering() -> None:
    assert classify("Amazon Simple Storage Service", "EUC1-TimedStorage-ByteHrs") == [
        Hit("s3_storage_class", False, D("0.45"), "S3 Standard", "S3 Intelligent-Tiering")
    ]


@pytest.mark.parametrize(
    ("usage_type", "current"),
    [
        ("TimedStorage-INT-FA-ByteHrs", "S3 Intelligent-Tiering"),
        ("TimedStorage-INT-IA-ByteHrs", "S3 Intelligent-Tiering"),
        ("TimedStorage-SIA-ByteHrs", "S3 Standard-IA"),
        ("TimedStorage-ZIA-ByteHrs", "S3 One Zone-IA"),
        ("TimedStorage-GlacierByteHrs", "S3 Glacier Flexible Retrieval"),
        ("APS2-TimedStorage-GDA-ByteHrs", "S3 Glacier Deep Archive"),
        ("TimedStorage-GIR-ByteHrs", "S3 Glacier Instant Retrieval"),
    ],
)
def test_s3_cheaper_classes_are_efficient(usage_type: str, current: str) -> None:
    assert classify("AmazonS3", usage_type) == [
        Hit("s3_storage_class", True, D(0), current, current)
    ]


@pytest.mark.parametrize(
    "usage_type", ["Requests-Tier1", "Requests-Tier2", "DataTransfer-Out-Bytes",
                   "USE1-DataTransfer-Regional-Bytes", "EarlyDelete-SIA"],
)  # fmt: skip
def test_s3_requests_and_transfer_are_not_eligible(usage_type: str) -> None:
    assert classify("AmazonS3", usage_type) == []


# What classify never returns, and unknowns ----------------------------------------------


@pytest.mark.parametrize(
    ("service", "usage_type"),
    [(None, None), (EC2, None), (EC2, ""), (None, "   "), ("Tax", "Tax"),
     ("AmazonCloudWatch", "CW:MetricMonitorUsage"), ("AWSDataTransfer", "DataTransfer-Out-Bytes"),
     (EC2, "NatGateway-Hours"), (EC2, "BoxUsage:"), (EC2, "BoxUsage:not-an-instance"),
     # a known service contradicting the usage type
     ("AmazonS3", "BoxUsage:m5.large"), ("AmazonRDS", "EBS:VolumeUsage.gp2"),
     (EC2, "TimedStorage-ByteHrs"), ("Something new", "Mystery:thing")],
)  # fmt: skip
def test_unknown_or_not_eligible_costs_give_no_hits(
    service: str | None, usage_type: str | None
) -> None:
    assert classify(service, usage_type) == []


def test_an_unknown_or_missing_service_leaves_the_decision_to_the_usage_type() -> None:
    expected = classify(EC2, "BoxUsage:m5.large")
    assert classify(None, "BoxUsage:m5.large") == expected
    assert classify("EC2 Instances (new name)", "BoxUsage:m5.large") == expected
    assert classify(None, "EBS:VolumeUsage.gp2")[0].suggested == "gp3"


def test_classify_never_returns_tag_or_budget_components() -> None:
    samples = [
        (EC2, "BoxUsage:m5.large"), (EC2, "SpotUsage:c5.large"), (EC2, "EBS:VolumeUsage.gp2"),
        ("AmazonS3", "TimedStorage-ByteHrs"), ("AWSLambda", "Lambda-GB-Second"),
        ("AmazonRDS", "InstanceUsage:db.m5.large"), ("AmazonDynamoDB", "ReadCapacityUnit-Hrs"),
    ]  # fmt: skip
    for service, usage in samples:
        for hit in classify(service, usage):
            assert hit.component in COMPONENTS
            assert hit.component not in ("tag_compliance", "budget_adherence")
            assert isinstance(hit.saving_rate, Decimal)
            assert (hit.saving_rate == 0) == hit.efficient


def test_the_generated_bills_usage_types() -> None:
    """Every usage type the demo generator writes is classified as the rules say."""
    eligible = {
        item.usage_type: {h.component for h in classify(item.product_code, item.usage_type)}
        for item in catalog.ITEMS
    }
    for item in catalog.ITEMS:  # FOCUS's ServiceName, with a region's prefix
        for region in catalog.REGIONS:
            hits = classify(item.product_name, region.prefix + item.usage_type)
            assert {h.component for h in hits} == eligible[item.usage_type]
    assert eligible["BoxUsage:m5.large"] == {
        "commitment_coverage", "graviton", "current_generation", "spot"
    }  # fmt: skip
    assert eligible["BoxUsage:m6g.large"] == eligible["BoxUsage:m5.large"]
    assert eligible["EBS:VolumeUsage.gp2"] == eligible["EBS:VolumeUsage.gp3"] == {"ebs_volume_type"}
    assert eligible["TimedStorage-ByteHrs"] == {"s3_storage_class"}
    assert eligible["Lambda-GB-Second"] == {"commitment_coverage", "graviton"}
    assert eligible["InstanceUsage:db.m5.large"] == {"commitment_coverage", "graviton"}
    not_eligible = {k for k, v in eligible.items() if not v}
    assert not_eligible == {
        "EBS:SnapshotUsage", "NatGateway-Hours", "Requests-Tier1", "Requests-Tier2", "Request",
        "RDS:GP2-Storage", "DataTransfer-Out-Bytes", "DataTransfer-Regional-Bytes",
        "CW:MetricMonitorUsage", "DataProcessing-Bytes",
    }  # fmt: skip
