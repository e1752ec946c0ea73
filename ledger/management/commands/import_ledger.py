from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from core.choices import Channel
from core.context import change_context
from ledger import services


class Command(BaseCommand):
    help = (
        "Import general-ledger files (CSV or XLSX): every period in each file replaces what "
        "was imported for it before; lines no ledger rule maps are booked as unmapped."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="Ledger files, .csv or .xlsx.")

    def handle(self, *args, files, **options):
        with change_context(channel=Channel.COMMAND):
            for name in files:
                path = Path(name)
                if not path.is_file():
                    raise CommandError(f"{name}: no such file.")
                try:
                    with path.open("rb") as stream:
                        results = services.import_ledger(stream=stream, name=path.name)
                except ValidationError as exc:
                    raise CommandError(f"{name}: {' '.join(exc.messages)}") from None
                for result in results:
                    totals = "; ".join(
                        f"{currency} total {values['total']} = mapped {values['mapped']} + "
                        f"unmapped {values['unmapped']}"
                        for currency, values in result.totals.items()
                    )
                    self.stdout.write(
                        f"{path.name}: {result.period_label}: {result.outcome}, "
                        f"{result.lines} lines ({result.unmapped_lines} unmapped). {totals}."
                    )
