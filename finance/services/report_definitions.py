"""Scheduled finance reports: their definitions, beat schedules and runs."""

import datetime
import json
import logging
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule
from django_celery_beat.models import PeriodicTask

from core.translations import languages_by_address
from core.translations import original_language
from core.translations import speaking
from finance import reports
from finance import review_pack_reports
from finance import selectors
from finance import statement_reports
from finance.choices import ReportFormat
from finance.choices import ReportKind
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.filtersets import FundServicesFilterSet
from finance.models import SCHEDULE_FIELDS
from finance.models import QueuedTask
from finance.models import ReportDefinition
from finance.models import ReportFile
from finance.models import ReportRun
from finance.selectors import review_packs
from finance.services.outbox import queue_task
from finance.services.report_spans import parse_report_period
from finance.services.report_spans import report_periods
from finance.services.report_spans import resolve_report_period

logger = logging.getLogger(__name__)

# Sent by name: finance.tasks calls these services, not the other way round.
REPORT_TASK = "finance.tasks.run_report"
# Reports mailed to each relationship manager with their own customers' part.
PER_MANAGER_KINDS = (ReportKind.STATEMENTS, ReportKind.REVIEW_PACKS)


def clean_report_scope(scope: dict | None) -> dict:
    """Keep only the Fund services filters that are set; refuse a value they reject."""
    names = set(FundServicesFilterSet.base_filters)
    scope = {key: str(value).strip() for key, value in (scope or {}).items() if value}
    unknown = sorted(set(scope) - names)
    if unknown:
        raise ValidationError(
            {"scope": f"Unknown filter: {', '.join(unknown)}. Use {', '.join(sorted(names))}."}
        )
    scope = {key: value for key, value in scope.items() if value}
    selectors.scoped_results(periods=[], scope=scope)
    return scope


def save_report_definition(*, definition: ReportDefinition, user=None) -> ReportDefinition:
    """Validate and save a report, and keep its beat schedule in step."""
    if definition.kind in PER_MANAGER_KINDS and definition.scope:
        raise ValidationError(
            {
                "scope": f"{ReportKind(definition.kind).label} cover every customer (each "
                "relationship manager receives those of their own customers): leave the scope "
                "empty."
            }
        )
    definition.scope = clean_report_scope(definition.scope)
    definition.formats = [f for f in ReportFormat.values if f in set(definition.formats)]
    definition.recipients = list(dict.fromkeys(a.strip() for a in definition.recipients if a))
    if definition.pk is None and getattr(user, "is_authenticated", False):
        definition.created_by = user
    definition.full_clean()
    definition.save()
    sync_report_schedule(definition=definition)
    return definition


def sync_report_schedule(*, definition: ReportDefinition) -> PeriodicTask:
    """Create or update the report's CrontabSchedule and PeriodicTask (enabled with it), in
    the server's time zone; a crontab no entry uses any more is removed."""
    values = {name: getattr(definition, name) for name, _ in SCHEDULE_FIELDS}
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    crontab = CrontabSchedule.objects.filter(**values, timezone=zone).order_by("pk").first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**values, timezone=zone)
    task = definition.periodic_task or PeriodicTask()
    previous_crontab = task.crontab_id
    task.name = f"finance report {definition.pk}: {definition.name}"[:200]
    task.task = REPORT_TASK
    task.crontab = crontab
    task.interval = task.solar = task.clocked = None
    task.args = json.dumps([definition.pk])
    task.kwargs = "{}"
    task.enabled = definition.enabled
    task.description = f"Renders and e-mails the finance report “{definition.name}”."
    task.save()
    if definition.periodic_task_id != task.pk:
        ReportDefinition.objects.filter(pk=definition.pk).update(periodic_task=task)
        definition.periodic_task = task
    if previous_crontab and previous_crontab != crontab.pk:
        _drop_unused_crontab(previous_crontab)
    return task


def _drop_unused_crontab(crontab_id: int) -> None:
    CrontabSchedule.objects.filter(pk=crontab_id, periodictask__isnull=True).delete()


def delete_report_definition(*, definition: ReportDefinition) -> str:
    """Delete a report with its runs, files and beat entry."""
    task = definition.periodic_task
    definition.delete()
    if task is not None:
        crontab_id = task.crontab_id
        task.delete()
        if crontab_id:
            _drop_unused_crontab(crontab_id)
    return "deleted"


def queue_report_run(
    *, definition: ReportDefinition, resend: bool = False, period: str = "", user=None
) -> QueuedTask:
    """Run a report in the background (sent after commit, or by the sweep while the job queue
    is unreachable); ``period`` is checked now."""
    key = parse_report_period(period).key if period else None
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    return queue_task(
        task=REPORT_TASK,
        args=[definition.pk],
        kwargs={
            "resend": resend,
            "period": key,
            "trigger": ReportTrigger.MANUAL,
            "user_id": user_id,
        },
    )


def run_report(
    definition: ReportDefinition,
    *,
    resend: bool = False,
    period: str | None = None,
    trigger: str = ReportTrigger.SCHEDULE,
    user=None,
    today: datetime.date | None = None,
) -> ReportRun:
    """Render, store and e-mail a report for one period (``period`` as in
    parse_report_period; by default the one its selector names).

    One run per report and period: a rerun regenerates the files in place. The e-mail (one
    message, every file attached, to every recipient) goes once per period unless
    ``resend``. A period that is not closed with results gives a skipped run with the reason.
    """
    span = (
        parse_report_period(period)
        if period
        else resolve_report_period(selector=definition.period_selector, today=today)
    )
    requested_by = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        run, _ = ReportRun.objects.get_or_create(
            definition=definition,
            period_key=span.key,
            defaults={"trigger": trigger, "started_at": timezone.now()},
        )
        run.trigger = trigger
        run.started_at = timezone.now()
        run.finished_at = None
        run.outcome = ReportOutcome.RUNNING
        run.first_month, run.last_month = span.first_label, span.last_label
        run.error = run.note = ""
        run.requested_by = requested_by
        run.save(update_fields=[*RUN_START_FIELDS, *RUN_END_FIELDS])
    run.delivery_failed = False

    try:
        periods, reason = report_periods(span)
        if reason:
            return _finish_run(run, ReportOutcome.SKIPPED, error=reason)
        # The kept files are in the original language; each e-mail in its reader's (below).
        with speaking():
            if definition.kind == ReportKind.STATEMENTS:
                statements = list(selectors.statements_in(periods=periods))
                data = statement_pack(definition, span, statements, for_whom="every customer")
                rendered = [statement_reports.render(data, fmt) for fmt in definition.formats]
            elif definition.kind == ReportKind.REVIEW_PACKS:
                packs = [
                    review_packs.review_pack(customer=customer, span=span)
                    for customer in review_packs.customers_in_force(span)
                ]
                data = pack_set(definition, span, packs, for_whom="every customer")
                rendered = [review_pack_reports.render(data, fmt) for fmt in definition.formats]
            else:
                data = reports.gather(definition=definition, span=span, periods=periods)
                rendered = [reports.render(data, fmt) for fmt in definition.formats]
        with transaction.atomic():
            now = timezone.now()
            for item in rendered:
                ReportFile.objects.update_or_create(
                    run=run,
                    format=item.format,
                    defaults={
                        "filename": item.filename,
                        "content_type": item.content_type,
                        "content": item.content,
                        "size": len(item.content),
                        "rendered_at": now,
                    },
                )
            run.files.exclude(format__in=definition.formats).delete()
    except Exception as exc:
        logger.exception("Report %s for %s failed", definition.pk, span.key)
        return _finish_run(run, ReportOutcome.FAILED, error=f"{type(exc).__name__}: {exc}")

    if definition.kind == ReportKind.STATEMENTS:
        groups = recipients_by_manager(definition, statements)
        languages = languages_by_address(groups)

        def send_statements(address, for_whom, group):
            with speaking(languages.get(address.lower())):
                pack = statement_pack(definition, span, group, for_whom=for_whom)
                files = [statement_reports.render(pack, fmt) for fmt in definition.formats]
                statement_reports.email(
                    pack, files, to=[address], subject=f"{definition.name} · {span.label}"
                )

        return _deliver_by_manager(
            run, span, groups, send_statements, resend=resend, what="a statement"
        )
    if definition.kind == ReportKind.REVIEW_PACKS:
        groups = recipients_by_manager(definition, packs)
        languages = languages_by_address(groups)

        def send_packs(address, for_whom, group):
            with speaking(languages.get(address.lower())):
                packs_of = pack_set(definition, span, group, for_whom=for_whom)
                files = [review_pack_reports.render(packs_of, fmt) for fmt in definition.formats]
                review_pack_reports.email(
                    packs_of, files, to=[address], subject=f"{definition.name} · {span.label}"
                )

        return _deliver_by_manager(
            run, span, groups, send_packs, resend=resend, what="a subscribed service"
        )
    with transaction.atomic():
        # Locked while sending: two runs of one period cannot both send it.
        locked = ReportRun.objects.select_for_update().get(pk=run.pk)
        if locked.emailed_at is not None and not resend:
            run.emailed_at, run.emailed_to = locked.emailed_at, locked.emailed_to
            run.email_count = locked.email_count
            when = timezone.localtime(locked.emailed_at).strftime("%Y-%m-%d %H:%M")
            run.note = (
                f"Files made again; not e-mailed again (sent {when} to "
                f"{', '.join(locked.emailed_to)})."
            )[:500]
            return _finish_run(run, ReportOutcome.SUCCEEDED)
        try:
            _email_by_language(definition, span, periods, data, rendered)
        except Exception as exc:
            run.delivery_failed = True
            return _finish_run(
                run, ReportOutcome.FAILED, error=f"The e-mail could not be sent: {exc}"
            )
        run.emailed_at = timezone.now()
        run.emailed_to = list(definition.recipients)
        run.email_count = locked.email_count + 1
        count = len(run.emailed_to)
        run.note = f"E-mailed to {count} recipient{pluralize(count)}" + (
            f" (time {run.email_count})." if run.email_count > 1 else "."
        )
        return _finish_run(run, ReportOutcome.SUCCEEDED, emailed=True)


def _email_by_language(definition, span, periods, data, rendered) -> None:
    """The report to its recipients: one message per language they chose (their profile),
    the files made again in each; those who chose none get the kept files."""
    languages = languages_by_address(definition.recipients)
    by_language: dict[str, list[str]] = {}
    for recipient in definition.recipients:
        by_language.setdefault(languages.get(recipient.lower(), ""), []).append(recipient)
    for language, recipients in by_language.items():
        if not language or language == original_language():
            reports.email(data, rendered, recipients=recipients)
            continue
        with speaking(language):
            theirs = reports.gather(definition=definition, span=span, periods=periods)
            files = [reports.render(theirs, fmt) for fmt in definition.formats]
            reports.email(theirs, files, recipients=recipients)


# --- Customer statements: one message per relationship manager and period ------------------


def statement_pack(definition, span, statements, *, for_whom: str):
    return statement_reports.pack_for(
        statements,
        title=span.label,
        subtitle=f"{definition.name} · {for_whom}",
        key=f"{definition.name}-{span.key}",
    )


def pack_set(definition, span, packs, *, for_whom: str):
    return review_pack_reports.PackSet(
        title=f"Service review packs · {span.label}",
        subtitle=f"{definition.name} · {for_whom}",
        key=f"{definition.name}-{span.key}",
        packs=list(packs),
    )


def recipients_by_manager(definition: ReportDefinition, records) -> dict[str, tuple]:
    """Who receives which records (statements or review packs, each of one ``customer``):
    each relationship manager (by e-mail address) those of their customers; the report's
    recipients those of customers without one (or whose manager has no address). One entry
    per address, in order: (for whom, records)."""
    groups: dict[str, tuple[str, list]] = {}
    for record in records:
        manager = record.customer.relationship_manager
        address = (manager.email or "").strip() if manager is not None else ""
        if address:
            addresses = [(address, f"the customers of {reports.person_name(manager)}")]
        else:
            addresses = [
                (recipient, "customers without a relationship manager")
                for recipient in definition.recipients
            ]
        for address, for_whom in addresses:
            entry = groups.setdefault(address, (for_whom, []))
            entry[1].append(record)
    return dict(sorted(groups.items()))


def _deliver_by_manager(
    run: ReportRun, span, groups: dict[str, tuple], send, *, resend: bool, what: str
) -> ReportRun:
    """One message per address (recipients_by_manager) and period, each with the files of
    its own records, sent by ``send(address, for_whom, records)``. An address already sent
    this period is not sent again unless ``resend``: a rerun sends only what a failed
    delivery left unsent."""
    with transaction.atomic():
        # Locked while sending: two runs of one period cannot both send it.
        locked = ReportRun.objects.select_for_update().get(pk=run.pk)
        already = set() if resend else set(locked.emailed_to)
        pending = {address: group for address, group in groups.items() if address not in already}
        run.emailed_at, run.emailed_to = locked.emailed_at, list(locked.emailed_to)
        run.email_count = locked.email_count
        if not pending:
            if locked.emailed_at is not None:
                when = timezone.localtime(locked.emailed_at).strftime("%Y-%m-%d %H:%M")
                run.note = (
                    f"Files made again; not e-mailed again (sent {when} to "
                    f"{', '.join(locked.emailed_to)})."
                )[:500]
            else:
                run.note = f"No customer has {what} in {span.label}: nothing to send."
            return _finish_run(run, ReportOutcome.SUCCEEDED)
        sent: list[str] = []
        failure = ""
        for address, (for_whom, group) in pending.items():
            try:
                send(address, for_whom, group)
            except Exception as exc:
                failure = f"The e-mail to {address} could not be sent: {exc}"
                break
            sent.append(address)
        if sent:
            run.emailed_at = timezone.now()
            run.emailed_to = list(dict.fromkeys([*locked.emailed_to, *sent]))
            run.email_count = locked.email_count + 1
        count = len(sent)
        run.note = f"E-mailed {count} message{pluralize(count)}, one per recipient" + (
            f" (time {run.email_count})." if run.email_count > 1 and count else "."
        )
        if failure:
            run.delivery_failed = True
            return _finish_run(run, ReportOutcome.FAILED, error=failure, emailed=bool(sent))
        return _finish_run(run, ReportOutcome.SUCCEEDED, emailed=True)


RUN_START_FIELDS = ("trigger", "started_at", "first_month", "last_month", "requested_by")
RUN_END_FIELDS = ("outcome", "error", "note", "finished_at")
RUN_EMAIL_FIELDS = ("emailed_at", "emailed_to", "email_count")


def _finish_run(run: ReportRun, outcome: str, *, error: str = "", emailed=False) -> ReportRun:
    """Record how the run ended; the e-mail fields only by the run that sent it."""
    run.outcome = outcome
    run.error = error[:5000]
    run.finished_at = timezone.now()
    run.save(update_fields=[*RUN_END_FIELDS, *(RUN_EMAIL_FIELDS if emailed else ())])
    return run
