from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from core.choices import Channel
from core.context import change_context
from finance import services
from finance.choices import RunTrigger


class Command(BaseCommand):
    help = (
        "Roll up the total cost of ownership of one period now (the computation the Celery "
        "task runs), and print its reconciliation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="The period, YYYY-MM.")
        parser.add_argument(
            "--create",
            action="store_true",
            help="Open the period first if it does not exist yet.",
        )

    def handle(self, *args, period, create, **options):
        with change_context(channel=Channel.COMMAND):
            try:
                target = services.period_for(period, create=create)
                run = services.recompute_tco(period=target, trigger=RunTrigger.COMMAND)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        seconds = run.duration.total_seconds() if run.duration else 0
        self.stdout.write(
            f"{target} version {run.version}: {run.services_count} services in {seconds:.2f} s. "
            f"Input {run.input_total} = kept {run.kept_total} + unallocated "
            f"{run.unallocated_total}."
        )
        for currency, amount in sorted(run.unconverted.get("cost", {}).items()):
            self.stdout.write(f"Not converted (no {currency} rate): {amount} {currency}.")
