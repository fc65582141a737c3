"""The allocation run: rules compiled to one SQL CASE, splits shared in exact Decimal."""
