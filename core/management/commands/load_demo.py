import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

from core.choices import Channel
from core.context import change_context

# Each app adds its part of the one fictional organisation in <app>/demo.py: load(*, stdout).
# Value streams come before finance: the roll-up that closes the demo's older months shares
# each service's kept cost among the stages that rely on it, so the stages must exist by then.
DEMO_MODULES = (
    "core.demo",
    "portfolio.demo",
    "performance.demo",
    "valuestreams.demo",
    "finance.demo",
    "maturity.demo",
)


class Command(BaseCommand):
    help = "Load the demo organisation (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        with transaction.atomic(), change_context(channel=Channel.COMMAND, source="demo"):
            for module_name in DEMO_MODULES:
                try:
                    module = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != module_name:
                        raise
                    continue
                module.load(stdout=self.stdout)
