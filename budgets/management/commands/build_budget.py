from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from budgets import services
from budgets.models import BudgetVersion
from core.choices import Channel
from core.context import change_context


class Command(BaseCommand):
    help = (
        "Build a draft budget of a fiscal year from contracts and the run rate (a new draft "
        "when the year has none), roll it up through the TCO engine now, and print its lines "
        "by origin and its reconciliation."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names a budget version here, in place of Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--fiscal-year", type=int, required=True, help="Such as 2027.")
        parser.add_argument(
            "--version", type=int, help="The id of the draft to build (default: the latest)."
        )

    def handle(self, *args, fiscal_year, version, **options):
        with change_context(channel=Channel.COMMAND):
            try:
                if version is not None:
                    target = BudgetVersion.objects.filter(pk=version).first()
                    if target is None:
                        raise CommandError(f"There is no budget version {version}.")
                    if target.fiscal_year != fiscal_year:
                        raise CommandError(
                            f"Budget version {version} is of fiscal year {target.fiscal_year}."
                        )
                else:
                    target = services.ensure_draft(fiscal_year)
                counts = services.build_budget(target, user=None)
                services.roll_up(target)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        lines = ", ".join(f"{origin} {count}" for origin, count in counts.items())
        self.stdout.write(
            f"{target} (version {target.pk}): lines {lines}. Input {target.input_total} = kept "
            f"{target.kept_total} + unallocated {target.unallocated_total}."
        )
