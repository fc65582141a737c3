"""The anomaly monitor: daily cost series against a robust baseline, root causes."""
