"""The pages of the billing app, one module per part of the domain."""
