"""Notifications: e-mail and signed webhooks, each delivery logged and retried."""
