"""One usage hour of a legacy CUR file, column by column, to write small bills by hand."""

from __future__ import annotations

PAYER = "111122223333"
CUR_ROW = {
    "bill/PayerAccountId": PAYER, "bill/BillingPeriodStartDate": "2026-01-01T00:00:00Z",
    "bill/BillingPeriodEndDate": "2026-02-01T00:00:00Z", "lineItem/UsageAccountId": "210000000001",
    "lineItem/LineItemType": "Usage", "lineItem/UsageStartDate": "2026-01-05T00:00:00Z",
    "lineItem/UsageEndDate": "2026-01-05T01:00:00Z", "lineItem/ProductCode": "AmazonEC2",
    "lineItem/CurrencyCode": "USD", "lineItem/UnblendedCost": "1.5",
    "lineItem/LineItemDescription": "on demand",
}  # fmt: skip
