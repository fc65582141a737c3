"""The allocation run: rules compiled to one SQL CASE, splits shared exactly in SQL."""
