"""Demo data for `make run`: a tenant with users of every role and a small organization."""
