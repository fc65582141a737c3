from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.core.errors import ApplicationError
from portal.tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with its schema, domain and first admin user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", required=True, help="PostgreSQL schema, e.g. acme")
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Acme Corp'")
        parser.add_argument("--domain", required=True, help="Host name, e.g. acme.localhost")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--admin-username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant = tenant_create(
                actor=None,
                schema=options["schema"],
                name=options["name"],
                domain=options["domain"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
                admin_username=options["admin_username"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.field or 'tenant'}: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.name} (schema {tenant.schema_name}) at "
                f"http://{options['domain']}/ with admin user {options['admin_username']}."
            )
        )
