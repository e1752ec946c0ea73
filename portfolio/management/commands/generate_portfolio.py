import time

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from portfolio.generate import DEFAULT_BATCH_SIZE
from portfolio.generate import GenerationError
from portfolio.generate import all_options
from portfolio.generate import generate_portfolio

# Options of generate_portfolio itself; every registered generator adds its own.
RUN_OPTIONS = ("seed", "clear", "history", "batch_size")


class Command(BaseCommand):
    help = (
        "Generate a synthetic portfolio under source 'generated' for benchmarks and load "
        "tests (deterministic for a given --seed). See portfolio/generate.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--clear", action="store_true", help="remove the previous generated data first"
        )
        parser.add_argument(
            "--history",
            action="store_true",
            help="also write a create change record per generated row (slower)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per insert (default {DEFAULT_BATCH_SIZE})",
        )
        for option in all_options():
            default = "" if option.default is None else f" (default {option.default})"
            parser.add_argument(
                option.flag,
                dest=option.name,
                type=option.type,
                default=option.default,
                help=option.help + default,
            )

    def handle(self, *args, **options):
        kwargs = {name: options[name] for name in RUN_OPTIONS}
        kwargs.update({option.name: options[option.name] for option in all_options()})
        started = time.perf_counter()
        try:
            counts = generate_portfolio(stdout=self.stdout, **kwargs)
        except GenerationError as exc:
            raise CommandError(str(exc)) from exc
        made = ", ".join(f"{count:,} {name}" for name, count in counts.items()) or "nothing"
        self.stdout.write(
            self.style.SUCCESS(f"Generated {made} in {time.perf_counter() - started:.1f} s.")
        )
