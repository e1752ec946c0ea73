from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from cloud import services
from core.choices import Channel
from core.context import change_context


class Command(BaseCommand):
    help = (
        "Import cloud bills in the FinOps FOCUS format (CSV or Parquet): every billing "
        "account's billing period in each file replaces what was imported for it before."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="FOCUS files, .csv or .parquet.")

    def handle(self, *args, files, **options):
        with change_context(channel=Channel.COMMAND):
            for name in files:
                path = Path(name)
                if not path.is_file():
                    raise CommandError(f"{name}: no such file.")
                try:
                    with path.open("rb") as stream:
                        results = services.import_focus(stream=stream, name=path.name)
                except ValidationError as exc:
                    raise CommandError(f"{name}: {' '.join(exc.messages)}") from None
                for result in results:
                    totals = "; ".join(
                        f"{currency} effective {values['effective']}, untagged {values['untagged']}"
                        for currency, values in result.totals.items()
                    )
                    self.stdout.write(
                        f"{path.name}: {result.account} {result.period_label}: "
                        f"{result.outcome}, {result.lines} lines "
                        f"({result.untagged_lines} untagged). {totals}."
                    )
