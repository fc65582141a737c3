"""Budgets: amounts per period, their spend, and thresholds that fire once per period."""
