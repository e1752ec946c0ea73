from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from core.choices import Channel
from core.context import change_context
from core.numbers import whole_number
from finance import services
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.models import ReportDefinition


class Command(BaseCommand):
    help = (
        "Run a finance report now (what its schedule runs): render its files for the period "
        "it names, or the one given, store them and e-mail them unless that period was "
        "already e-mailed."
    )

    def add_arguments(self, parser):
        parser.add_argument("report", help="The report's id or its name.")
        parser.add_argument(
            "--period",
            default=None,
            help="YYYY-MM, YYYY-Qn (quarter n of fiscal year YYYY) or FYyyyy; "
            "by default the report's own period.",
        )
        parser.add_argument(
            "--resend",
            action="store_true",
            help="E-mail the files even if this period was already e-mailed.",
        )

    def handle(self, *args, report, period, resend, **options):
        # A name first: a report may be called "2025".
        definition = ReportDefinition.objects.filter(name=report).first()
        if definition is None and whole_number(report) is not None:
            definition = ReportDefinition.objects.filter(pk=whole_number(report)).first()
        if definition is None:
            raise CommandError(f"No report has the name or id {report!r}.")
        with change_context(channel=Channel.COMMAND):
            try:
                run = services.run_report(
                    definition, resend=resend, period=period, trigger=ReportTrigger.COMMAND
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        files = ", ".join(f.filename for f in run.files.defer("content").order_by("format"))
        self.stdout.write(
            f"{definition} {run.period_key}: {run.get_outcome_display().lower()}."
            + (f" Files: {files}." if files and run.outcome == ReportOutcome.SUCCEEDED else "")
            + (f" {run.note}" if run.note else "")
        )
        if run.outcome != ReportOutcome.SUCCEEDED:
            raise CommandError(run.error)
