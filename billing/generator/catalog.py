"""What the generated bills are made of: services, usage types, list prices, regions, tags.

Prices are public on-demand list prices in dollars as decimal text (never float); the
generator turns them into integers of ten-billionths (`MONEY_SCALE`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple

MONEY_DIGITS = 10  # CUR writes money with up to 10 decimal places
MONEY_SCALE = 10**MONEY_DIGITS
QTY_SCALE = 10**6  # quantities are generated in millionths


def snake_case(name: str) -> str:
    """AWS's Parquet and CUR 2.0 names: `lineItem/UnblendedCost` -> `line_item_unblended_cost`,
    `reservation/ReservationARN` -> `reservation_reservation_a_r_n`, `user:cost-center` ->
    `user_cost_center`."""
    out: list[str] = []
    for ch in name:
        if ch.isupper() and out and out[-1] != "_":
            out.append("_")
        out.append(ch.lower() if ch.isalnum() else "_")
    return "_".join(part for part in "".join(out).split("_") if part)


def units(dollars: str) -> int:
    """Dollars as decimal text to an exact integer of ten-billionths."""
    return int(Decimal(dollars).scaleb(MONEY_DIGITS).to_integral_exact())


class Qty(IntEnum):
    """How a usage row's quantity is drawn."""

    HOURS = 0  # 1 hour, sometimes a part of one
    STORAGE = 1  # the resource's size in GB, spread over the hours (or days) of the month
    VOLUME = 2  # GB transferred or processed, log-normal
    COUNT = 3  # requests, whole numbers
    SECONDS = 4  # GB-seconds (Lambda)


class Item(NamedTuple):
    product_code: str
    product_name: str  # also the FOCUS ServiceName
    service_category: str  # FOCUS ServiceCategory
    usage_type: str  # without the region prefix
    operation: str
    family: str  # product/productFamily
    instance_type: str
    unit: str  # pricing/unit
    price: str  # dollars per unit in us-east-1
    qty: Qty
    qty_range: tuple[float, float]
    daily: bool  # one row per day instead of per hour
    resource: str  # kind of resource id; "" for rows without one
    zonal: bool
    commitment: str  # "sp", "ri", "sp+ri" or ""
    weight: int  # share of the resource pool
    description: str  # {price} and {region} are filled in


EC2, RDS = "Amazon Elastic Compute Cloud", "Amazon Relational Database Service"
ON_DEMAND = "${price} per On Demand Linux {it} Instance Hour"


def _ec2(instance_type: str, price: str, commitment: str, weight: int) -> Item:
    return Item(
        "AmazonEC2", EC2, "Compute", f"BoxUsage:{instance_type}", "RunInstances",
        "Compute Instance", instance_type, "Hrs", price, Qty.HOURS, (1, 1), False,
        "instance", True, commitment, weight, ON_DEMAND.replace("{it}", instance_type),
    )  # fmt: skip


ITEMS: tuple[Item, ...] = (
    _ec2("t3.micro", "0.0104", "sp", 6),
    _ec2("t3.large", "0.0832", "sp", 6),
    _ec2("m5.large", "0.096", "sp+ri", 10),
    _ec2("m5.xlarge", "0.192", "sp", 6),
    _ec2("c5.2xlarge", "0.34", "sp", 4),
    _ec2("r5.xlarge", "0.252", "ri", 4),
    _ec2("m6g.large", "0.077", "sp", 4),
    Item("AmazonEC2", EC2, "Storage", "EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "Storage",
         "", "GB-Mo", "0.08", Qty.STORAGE, (8, 2000), False, "volume", True, "", 12,
         "${price} per GB-month of General Purpose (gp3) provisioned storage - {region}"),
    Item("AmazonEC2", EC2, "Storage", "EBS:VolumeUsage.gp2", "CreateVolume-Gp2", "Storage",
         "", "GB-Mo", "0.10", Qty.STORAGE, (8, 1000), False, "volume", True, "", 5,
         "${price} per GB-month of General Purpose SSD (gp2) provisioned storage - {region}"),
    Item("AmazonEC2", EC2, "Storage", "EBS:SnapshotUsage", "CreateSnapshot",
         "Storage Snapshot", "", "GB-Mo", "0.05", Qty.STORAGE, (10, 5000), True, "snapshot",
         False, "", 3, "${price} per GB-Month of snapshot data stored - {region}"),
    Item("AmazonEC2", EC2, "Networking", "NatGateway-Hours", "NatGateway", "NAT Gateway", "",
         "Hrs", "0.045", Qty.HOURS, (1, 1), False, "natgw", False, "", 3,
         "${price} per NAT Gateway Hour"),
    Item("AmazonS3", "Amazon Simple Storage Service", "Storage", "TimedStorage-ByteHrs",
         "StandardStorage", "Storage", "", "GB-Mo", "0.023", Qty.STORAGE, (1, 50000), True,
         "bucket", False, "", 6, "${price} per GB - first 50 TB / month of storage used"),
    Item("AmazonS3", "Amazon Simple Storage Service", "Storage", "Requests-Tier1", "PutObject",
         "API Request", "", "Requests", "0.000005", Qty.COUNT, (1, 20000), False, "bucket",
         False, "", 3, "${price} per PUT, COPY, POST, or LIST requests"),
    Item("AmazonS3", "Amazon Simple Storage Service", "Storage", "Requests-Tier2", "GetObject",
         "API Request", "", "Requests", "0.0000004", Qty.COUNT, (1, 200000), False, "bucket",
         False, "", 3, "${price} per GET and all other requests"),
    Item("AWSLambda", "AWS Lambda", "Compute", "Lambda-GB-Second", "Invoke", "Serverless", "",
         "Lambda-GB-Second", "0.0000166667", Qty.SECONDS, (0.5, 40000), False, "lambda",
         False, "sp", 5, "AWS Lambda - Total Compute - {region}"),
    Item("AWSLambda", "AWS Lambda", "Compute", "Request", "Invoke", "Serverless", "",
         "Requests", "0.0000002", Qty.COUNT, (1, 50000), False, "lambda", False, "", 4,
         "AWS Lambda - Total Requests - {region}"),
    Item("AmazonRDS", RDS, "Databases", "InstanceUsage:db.m5.large", "CreateDBInstance:0002",
         "Database Instance", "db.m5.large", "Hrs", "0.171", Qty.HOURS, (1, 1), False, "rds",
         True, "ri", 4, "${price} per RDS db.m5.large instance hour running MySQL"),
    Item("AmazonRDS", RDS, "Databases", "RDS:GP2-Storage", "CreateDBInstance:0002",
         "Database Storage", "", "GB-Mo", "0.115", Qty.STORAGE, (20, 2000), False, "rds", True,
         "", 3, "${price} per GB-month of provisioned GP2 storage running MySQL"),
    Item("AWSDataTransfer", "AWS Data Transfer", "Networking", "DataTransfer-Out-Bytes",
         "RunInstances", "Data Transfer", "", "GB", "0.09", Qty.VOLUME, (0.001, 40), False, "",
         False, "", 6, "${price} per GB - first 10 TB / month data transfer out"),
    Item("AWSDataTransfer", "AWS Data Transfer", "Networking", "DataTransfer-Regional-Bytes",
         "InterZone-In", "Data Transfer", "", "GB", "0.01", Qty.VOLUME, (0.001, 80), False, "",
         False, "", 4, "${price} per GB - regional data transfer between AZs"),
    Item("AmazonCloudWatch", "AmazonCloudWatch", "Management and Governance",
         "CW:MetricMonitorUsage", "MetricStorage", "Metric", "", "Metrics", "0.30", Qty.STORAGE,
         (10, 3000), True, "", False, "", 3, "${price} per metric-month - first 10,000 metrics"),
    Item("AmazonCloudWatch", "AmazonCloudWatch", "Management and Governance",
         "DataProcessing-Bytes", "PutLogEvents", "Data Payload", "", "GB", "0.50", Qty.VOLUME,
         (0.001, 5), False, "", False, "", 3, "${price} per GB - custom logs data ingested"),
)  # fmt: skip


class Region(NamedTuple):
    code: str
    name: str
    prefix: str  # usage type prefix
    price_factor: str  # multiplies the us-east-1 price
    weight: int


REGIONS: tuple[Region, ...] = (
    Region("us-east-1", "US East (N. Virginia)", "", "1", 50),
    Region("us-west-2", "US West (Oregon)", "USW2-", "1", 22),
    Region("eu-west-1", "EU (Ireland)", "EU-", "1.1", 15),
    Region("eu-central-1", "EU (Frankfurt)", "EUC1-", "1.15", 8),
    Region("ap-southeast-2", "Asia Pacific (Sydney)", "APS2-", "1.2", 5),
)

ACCOUNT_NAMES = ("management", "prod", "staging", "data-platform", "sandbox")
ACCOUNT_WEIGHTS = (5, 45, 20, 22, 8)
BUSINESS_UNITS = ("Shared", "Commerce", "Commerce", "Analytics", "R&D")
PAYER_NAME = "Acme Holdings"

TEAMS = ("web", "data", "platform", "ml", "payments", "search")
ENVS = ("prod", "staging", "dev")
COST_CENTERS = ("CC-1001", "CC-2040", "CC-3300", "CC 4000, Shared")
CREATORS = (
    "IAMUser:AIDAEXAMPLEUSER1:alice",
    "AssumedRole:AROAEXAMPLEROLE1:terraform",
    "AssumedRole:AROAEXAMPLEROLE2:karpenter",
)
UNTAGGED_SHARE = 0.35  # of resources without user tags
TEAM_ALIAS_SHARE = 0.06  # of tagged resources tagged `Team` instead of `team`
NO_ENV_SHARE = 0.15
CREATED_BY_SHARE = 0.4

# Commitments of the payer: (savings plan type, hourly commitment, discount off
# on-demand in basis points, purchase option, upfront fee or "")
SAVINGS_PLANS = (
    ("ComputeSavingsPlans", "4.50", 2800, "No Upfront", ""),
    ("EC2InstanceSavingsPlans", "1.20", 3600, "Partial Upfront", "5256.00"),
)
# (instance type, region, hourly recurring fee, discount in basis points, purchase
# option, upfront fee bought this month or "")
RESERVATIONS = (
    ("m5.large", "us-east-1", "0.0360", 3700, "Partial Upfront", "315.36"),
    ("r5.xlarge", "us-east-1", "0.1590", 3700, "No Upfront", ""),
    ("db.m5.large", "us-east-1", "0.1100", 3500, "No Upfront", ""),
)
SP_COVERED_SHARE = 0.85  # of the hours of a resource a savings plan covers
RI_COVERED_SHARE = 0.9
SP_FEE_SHARE = 0.004  # of the bulk rows that are hourly savings plan fees

TAX_RATE_BP = 800  # a sales tax of 8% on each account's usage
SUPPORT_RATE_BP = 1000  # Business support: 10% of the usage, at least $100
EDP_RATE_BP = 300  # an enterprise discount of 3%
MAX_FEE = units("90000")  # keeps every amount exact through a float64 (< 1e15 units)


class Kind(IntEnum):
    """lineItem/LineItemType, in the order of LINE_ITEM_TYPES."""

    USAGE = 0
    SP_COVERED = 1
    SP_NEGATION = 2
    DISCOUNTED = 3
    SP_RECURRING_FEE = 4
    SP_UPFRONT_FEE = 5
    RI_FEE = 6
    FEE = 7
    CREDIT = 8
    REFUND = 9
    TAX = 10
    EDP_DISCOUNT = 11


LINE_ITEM_TYPES = (
    "Usage",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
    "DiscountedUsage",
    "SavingsPlanRecurringFee",
    "SavingsPlanUpfrontFee",
    "RIFee",
    "Fee",
    "Credit",
    "Refund",
    "Tax",
    "EdpDiscount",
)
