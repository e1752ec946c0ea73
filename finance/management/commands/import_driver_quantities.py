"""Import a CSV of consumption-driver quantities (finance.services.import_quantities)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from core.api.errors import ApiError
from core.choices import Channel
from core.context import change_context
from finance import services


class Command(BaseCommand):
    help = (
        "Import driver quantities from a CSV file (columns driver, period, service or "
        "application, quantity, external_id) as one bulk sync batch, with the rights of --user."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument("--source", default="csv", help="The source the lines are keyed by.")
        parser.add_argument("--user", required=True, help="The username the import runs as.")

    def handle(self, *args, path: Path, source: str, user: str, **options):
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"No active user is called {user!r}.")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        try:
            with change_context(user=account, channel=Channel.COMMAND):
                result = services.import_quantities(text=text, source=source, user=account)
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from None
        except ApiError as error:
            raise CommandError("\n".join(services.sync_refusals(error))) from None
        self.stdout.write(services.import_summary(result))
