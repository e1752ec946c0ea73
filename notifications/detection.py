"""What has happened that someone should hear of, as of a given day: each detector reads the
portfolio and returns events, each with a key that names it once and for all, so running the
detection again (the next tick, a rerun, a second beat) finds the same keys and tells nobody
twice (services.record_events keeps one notification per key and person).

Date-driven events (notice dates, stale figures) follow ``today``, which the detection task
takes as an argument, so tests and demos move the clock by passing a later day."""

import dataclasses
import datetime
import functools
import itertools
from collections.abc import Callable
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from attestation.choices import AttestationStatus
from attestation.selectors import due_or_broken
from core import roles
from core.models import ObjectChange
from core.translations import name_of
from finance.choices import ReportOutcome
from finance.choices import RunOutcome
from finance.models import Period
from finance.models import ReportRun
from finance.models import TcoResult
from finance.models import TcoRun
from maturity.selectors import mismatches
from notifications.choices import EventKind
from performance.choices import Standing
from performance.selectors import attention_items
from performance.selectors import attention_outcomes
from portfolio.models import Contract
from valuestreams.choices import ImprovementStatus
from valuestreams.models import Improvement


@dataclasses.dataclass(frozen=True)
class Event:
    kind: str
    key: str
    recipients: frozenset[int]
    subject: str
    body: str
    path: str
    # For texts naming records that may be translated (core.translations): gives (subject,
    # body) in the active language, so services.record_events writes each person's in theirs.
    compose: Callable[[], tuple[str, str]] | None = dataclasses.field(default=None, compare=False)

    def texts(self) -> tuple[str, str]:
        return self.compose() if self.compose is not None else (self.subject, self.body)


def named_event(
    *, kind: str, key: str, recipients: frozenset[int], path: str, compose: Callable
) -> Event:
    """An event whose texts name translated records: written in the active language here,
    and again in each recipient's (Event.texts)."""
    subject, body = compose()
    return Event(kind, key, recipients, subject, body, path, compose=compose)


def people(*user_ids: int | None) -> frozenset[int]:
    return frozenset(pk for pk in user_ids if pk is not None)


def finance_people() -> frozenset[int]:
    users = get_user_model().objects.filter(groups__name=roles.FINANCE, is_active=True)
    return frozenset(users.values_list("pk", flat=True))


# --- Contracts ---------------------------------------------------------------------------------


def contract_notices(today: datetime.date) -> list[Event]:
    """A contract whose notice deadline is within one of PORTICO_NOTICE_DAYS (90 and 30 by
    default): told once per threshold, the nearest one reached (a contract first seen 20 days
    before its deadline is told of once, at 30), and again if its dates change."""
    thresholds = sorted(settings.PORTICO_NOTICE_DAYS)
    contracts = (
        Contract.objects.filter(retired_at__isnull=True)
        .filter(Q(renewal_date__gte=today) | Q(renewal_date__isnull=True, end_date__gte=today))
        .select_related("supplier")
    )
    events = []
    for contract in contracts:
        deadline = contract.notice_deadline
        if deadline is None or deadline < today:
            continue
        days_left = (deadline - today).days
        reached = [days for days in thresholds if days_left <= days]
        if not reached:
            continue
        events.append(
            Event(
                kind=EventKind.CONTRACT_NOTICE,
                key=f"contract-notice:{contract.pk}:{deadline.isoformat()}:{reached[0]}",
                recipients=people(contract.owner_id, contract.supplier.owner_id),
                subject=f"Notice for {contract} is due by {deadline:%d %b %Y}",
                body=(
                    f"The contract {contract} with {contract.supplier} renews or ends unless "
                    f"notice is given by {deadline:%d %b %Y}: {days_left} days from "
                    f"{today:%d %b %Y}."
                ),
                path=contract.get_absolute_url(),
            )
        )
    return events


# --- Attestations ------------------------------------------------------------------------------


def attestations_due_or_broken(today: datetime.date) -> list[Event]:
    """A record whose owner's confirmation expired (due) or was broken by someone else's
    change (check needed): to its owner, once per confirmation and lapse (a new confirmation
    that lapses again is news again; each breaking change record is its own event)."""
    found = due_or_broken(today)
    changes = ObjectChange.objects.in_bulk([d.broken_by_id for d in found if d.broken_by_id])
    events = []
    for due in found:
        record, attested = due.record, due.attested_at.isoformat() if due.attested_at else ""
        if due.status == AttestationStatus.CHECK_NEEDED:
            change = changes.get(due.broken_by_id)
            who = (change.user_name or change.get_channel_display()) if change else "someone"
            key = f"attestation-broken:{due.kind}:{record.pk}:{due.broken_by_id}"
            compose = functools.partial(_attestation_broken_texts, record, who)
        else:
            key = f"attestation-due:{due.kind}:{record.pk}:{attested}"
            compose = functools.partial(_attestation_due_texts, record)
        events.append(
            named_event(
                kind=EventKind.ATTESTATION,
                key=key,
                recipients=people(getattr(record, "owner_id", None)),
                path=record.get_absolute_url(),
                compose=compose,
            )
        )
    return events


def _attestation_broken_texts(record, who: str) -> tuple[str, str]:
    name = name_of(record)
    return (
        f"{name}: check needed after a change by {who}",
        f"{name} was changed by {who} since you confirmed it: check the change and confirm "
        "it again.",
    )


def _attestation_due_texts(record) -> tuple[str, str]:
    name = name_of(record)
    return (
        f"{name}: your confirmation is due",
        f"Your confirmation that {name} is correct has expired: confirm it again.",
    )


# --- Targets and outcomes ----------------------------------------------------------------------


def missed_or_stale_targets(today: datetime.date) -> list[Event]:
    """A functioning item of a live service whose latest figure missed its target, or whose
    next figure is overdue: once per item, status and latest figure."""
    items = attention_items(today).filter(status__in=[Standing.MISSED, Standing.STALE])
    return [
        named_event(
            kind=EventKind.TARGET,
            key=f"target-{item.status}:{item.pk}:{item.measured_until}",
            recipients=people(item.service.owner_id),
            path=item.service.get_absolute_url(),
            compose=functools.partial(_target_texts, item),
        )
        for item in items
    ]


def _target_texts(item) -> tuple[str, str]:
    service = name_of(item.service)
    return (
        f"{service}: {item} is {Standing(item.status).label.lower()}",
        f"The target of {item} ({service}) was missed by its latest figure."
        if item.status == Standing.MISSED
        else f"The next figure of {item} ({service}) is overdue.",
    )


def outcomes_at_risk(today: datetime.date) -> list[Event]:
    """An outcome that relies on a missed or stale item: to the service's owner and the
    customer's relationship manager, once per outcome and latest figures."""
    outcomes = attention_outcomes(today).filter(status=Standing.AT_RISK)
    return [
        named_event(
            kind=EventKind.OUTCOME_AT_RISK,
            key=(
                f"outcome-at-risk:{outcome.pk}:{outcome.measured_until}"
                f":{outcome.specification_item.measured_until}"
            ),
            recipients=people(
                outcome.subscription.service.owner_id,
                outcome.subscription.customer.relationship_manager_id,
            ),
            path=outcome.subscription.service.get_absolute_url(),
            compose=functools.partial(_outcome_texts, outcome),
        )
        for outcome in outcomes
    ]


def _outcome_texts(outcome) -> tuple[str, str]:
    customer = name_of(outcome.subscription.customer)
    return (
        f"{customer}: {outcome} is at risk",
        f"The outcome {outcome} of {customer} relies on {outcome.specification_item}, which "
        "is missed or stale.",
    )


# --- Improvements ------------------------------------------------------------------------------

DECIDED = (ImprovementStatus.ACCEPTED, ImprovementStatus.REJECTED, ImprovementStatus.DONE)


def decided_improvements(today: datetime.date) -> list[Event]:
    """An improvement moved to accepted, rejected or done (read from the change log of the
    last PORTICO_NOTIFICATION_LOOKBACK_DAYS): to its suggester, once per status reached."""
    since = timezone.now() - datetime.timedelta(days=settings.PORTICO_NOTIFICATION_LOOKBACK_DAYS)
    changes = ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Improvement),
        time__gte=since,
        after__status__in=list(DECIDED),
    ).values_list("object_id", "before", "after")
    reached = {
        (int(object_id), after["status"])
        for object_id, before, after in changes
        if (before or {}).get("status") != after["status"]
    }
    improvements = Improvement.objects.in_bulk({pk for pk, _ in reached})
    events = []
    for pk, status in sorted(reached):
        improvement = improvements.get(pk)
        if improvement is None:
            continue
        label = ImprovementStatus(status).label.lower()
        events.append(
            named_event(
                kind=EventKind.IMPROVEMENT,
                key=f"improvement:{pk}:{status}",
                recipients=people(improvement.suggested_by_id),
                path=improvement.get_absolute_url(),
                compose=functools.partial(_improvement_texts, improvement, label),
            )
        )
    return events


def _improvement_texts(improvement, label: str) -> tuple[str, str]:
    return (
        f"Your improvement “{improvement}” is {label}",
        f"The improvement you suggested in {name_of(improvement.value_stream)} is {label}.",
    )


# --- Maturity ----------------------------------------------------------------------------------


def new_mismatches(today: datetime.date) -> list[Event]:
    """A customer relationship whose latest assessments are too far apart: to its
    relationship manager, once per pair of assessments (a new assessment that still
    mismatches is news again)."""
    events = []
    for relationship in mismatches(today=today):
        customer, mismatch = relationship.customer, relationship.mismatch
        assert mismatch is not None and relationship.assessment is not None
        assert relationship.provider_assessment is not None
        events.append(
            named_event(
                kind=EventKind.MATURITY_MISMATCH,
                key=(
                    f"mismatch:{customer.pk}:{relationship.assessment.pk}"
                    f":{relationship.provider_assessment.pk}"
                ),
                recipients=people(customer.relationship_manager_id),
                path=customer.get_absolute_url(),
                compose=functools.partial(_mismatch_texts, customer, mismatch),
            )
        )
    return events


def _mismatch_texts(customer, mismatch) -> tuple[str, str]:
    return (
        f"Maturity mismatch with {name_of(customer)}: {mismatch.label.lower()}",
        mismatch.explanation,
    )


# --- Finance -----------------------------------------------------------------------------------


def _months_back(day: datetime.date, count: int) -> list[tuple[int, int]]:
    months, year, month = [], day.year, day.month
    for _ in range(count):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def tco_changes(today: datetime.date) -> list[Event]:
    """A service whose TCO moved by more than PORTICO_TCO_CHANGE_PERCENT from one month to
    the next (current versions of this month and the two before, each against its previous
    month): to its owner and finance, once per service and month."""
    threshold = Decimal(settings.PORTICO_TCO_CHANGE_PERCENT)
    wanted = _months_back(today, 4)
    periods = {
        (p.year, p.month): p
        for p in Period.objects.filter(Q(*[Q(year=y, month=m) for y, m in wanted], _connector=Q.OR))
    }
    results: dict[tuple[int, int], dict[int, TcoResult]] = {}
    current = Q(pk__in=[])
    for period in periods.values():
        current |= Q(period=period, version=period.current_version)
    month_of = {period.pk: month for month, period in periods.items()}
    for result in TcoResult.objects.filter(current).select_related("service"):
        results.setdefault(month_of[result.period_id], {})[result.service_id] = result
    finance = finance_people()
    events = []
    for month, previous in itertools.pairwise(wanted):
        for service_id, result in results.get(month, {}).items():
            before = results.get(previous, {}).get(service_id)
            if before is None or before.tco <= 0:
                continue
            change = (result.tco - before.tco) * 100 / before.tco
            if abs(change) <= threshold:
                continue
            service = result.service
            label = f"{month[0]}-{month[1]:02d}"
            events.append(
                named_event(
                    kind=EventKind.TCO_CHANGE,
                    key=f"tco-change:{service_id}:{label}",
                    recipients=people(service.owner_id) | finance,
                    path=service.get_absolute_url(),
                    compose=functools.partial(
                        _tco_change_texts,
                        service,
                        change,
                        label,
                        before.tco,
                        result.tco,
                        f"{previous[0]}-{previous[1]:02d}",
                    ),
                )
            )
    return events


def _tco_change_texts(service, change, label, before, after, previous) -> tuple[str, str]:
    name = name_of(service)
    return (
        f"TCO of {name} changed by {change:+.0f}% in {label}",
        f"The TCO of {name} went from {before} to {after} {settings.PORTICO_CURRENCY} between "
        f"{previous} and {label}.",
    )


def finance_failures(today: datetime.date) -> list[Event]:
    """A TCO run or a report run that failed in the last PORTICO_NOTIFICATION_LOOKBACK_DAYS:
    to finance, once per run."""
    since = timezone.now() - datetime.timedelta(days=settings.PORTICO_NOTIFICATION_LOOKBACK_DAYS)
    finance = finance_people()
    events = [
        Event(
            kind=EventKind.FINANCE_FAILURE,
            key=f"tco-run-failed:{run.pk}",
            recipients=finance,
            subject=f"The TCO run of {run.period} failed",
            body=run.error or "The roll-up stopped without a result.",
            path=run.get_absolute_url(),
        )
        for run in TcoRun.objects.filter(
            outcome=RunOutcome.FAILED, started_at__gte=since
        ).select_related("period")
    ]
    events += [
        Event(
            kind=EventKind.FINANCE_FAILURE,
            key=f"report-failed:{run.pk}",
            recipients=finance,
            subject=f"The report {run.definition} for {run.period_key} failed",
            body=run.error or "The report could not be made or sent.",
            path=run.get_absolute_url(),
        )
        for run in ReportRun.objects.filter(
            outcome=ReportOutcome.FAILED, started_at__gte=since
        ).select_related("definition")
    ]
    return events


DETECTORS: tuple[Callable[[datetime.date], list[Event]], ...] = (
    contract_notices,
    attestations_due_or_broken,
    missed_or_stale_targets,
    outcomes_at_risk,
    decided_improvements,
    new_mismatches,
    tco_changes,
    finance_failures,
)


def detect(today: datetime.date, detectors: Iterable = DETECTORS) -> list[Event]:
    return [event for detector in detectors for event in detector(today)]
