from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from performance.imports import ImportRefused
from performance.imports import import_measurements


class Command(BaseCommand):
    help = (
        "Import figures from a CSV file (columns: external_id, item or outcome, start, end, "
        "value, note; see docs/performance.md) as USERNAME, keyed by --source. A bad row "
        "refuses the whole file."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file (UTF-8).")
        parser.add_argument("--source", required=True, help="The system the figures come from.")
        parser.add_argument("--user", required=True, help="Who imports (their rights apply).")

    def handle(self, *args, path, source, user, **options):
        person = get_user_model().objects.filter(username=user, is_active=True).first()
        if person is None:
            raise CommandError(f"No active user has the username {user!r}.")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        try:
            result = import_measurements(text=text, user=person, source=source)
        except ImportRefused as refused:
            lines = [str(refused)]
            lines += [
                f"  {where}: {' '.join(messages)}" for where, messages in refused.errors.items()
            ]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(
            f"Figures from {source}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
