from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.core.errors import ApplicationError
from portal.demo import data
from portal.demo.loader import load_demo


class Command(BaseCommand):
    help = "Create the demo tenant and its data if missing; a second run changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", default=data.SCHEMA)
        parser.add_argument("--name", default=data.TENANT_NAME)
        parser.add_argument("--domain", default=data.DOMAIN)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            load = load_demo(
                schema=options["schema"], name=options["name"], domain=options["domain"]
            )
        except ApplicationError as exc:
            raise CommandError(f"Demo data: {exc.message} ({exc.code})") from exc
        if load.created:
            self.stdout.write("Demo data created:\n  " + "\n  ".join(load.created))
        else:
            self.stdout.write("Demo data present; nothing changed.")
        users = ", ".join(user.username for user in data.USERS)
        self.stdout.write(
            self.style.SUCCESS(
                f"Logins on {options['domain']}: {users}; on {data.PUBLIC_DOMAIN}: "
                f"{data.OPERATOR}. Password for all: {data.PASSWORD}"
            )
        )
