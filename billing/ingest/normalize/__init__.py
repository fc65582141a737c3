"""Turn a bill's columns into store rows: vectorized with pyarrow, one module per concern."""
