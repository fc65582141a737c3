"""Reading cloud bills (AWS CUR legacy and 2.0, FOCUS) into the FOCUS-aligned store."""
