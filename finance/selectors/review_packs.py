"""The service review pack of one customer for one month or quarter: the services it
subscribes to, each quadrant's items with their figures and met/missed, its outcomes'
attainment, the charges and cost to serve of its statements, and the open improvements that
concern those services. Read in a constant number of queries, whatever the customer's size.

Which services: the customer's subscriptions in force on the period's last day
(portfolio.selectors.subscriptions_in_force), as the API's subscriptions list them. Figures:
those whose window ends within the period. Status: as performance.selectors reads it on the
period's last day. Charges and cost to serve: the stored lines of the customer's current
statements of the period's months (finance.CustomerStatement), summed per service; None
where a month has no statement yet.
"""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from finance.models import Period
from finance.models import StatementLine
from finance.selectors.statements import current_statements
from finance.services.report_spans import ReportSpan
from performance import selectors as performance
from performance.models import Measurement
from portfolio.choices import Aspect
from portfolio.choices import Dimension
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.selectors import subscriptions_in_force
from valuestreams.models import Improvement
from valuestreams.selectors import OPEN_STATUSES

# The quadrants in the order a specification shows them.
QUADRANTS = (
    (Aspect.FACILITY, Dimension.FUNCTIONALITY),
    (Aspect.FACILITY, Dimension.FUNCTIONING),
    (Aspect.SUPPORT, Dimension.FUNCTIONALITY),
    (Aspect.SUPPORT, Dimension.FUNCTIONING),
)


def span_days(span: ReportSpan) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a report span."""
    first_year, first_month = divmod(span.first, 12)
    last_year, last_month = divmod(span.last, 12)
    last_day = calendar.monthrange(last_year, last_month + 1)[1]
    return (
        datetime.date(first_year, first_month + 1, 1),
        datetime.date(last_year, last_month + 1, last_day),
    )


@dataclass
class ItemReview:
    item: SpecificationItem
    status: str | None  # None for a statement of functionality
    figures: list[Measurement] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(1 for figure in self.figures if figure.met is True)

    @property
    def missed(self) -> int:
        return sum(1 for figure in self.figures if figure.met is False)


@dataclass
class Quadrant:
    aspect: str
    dimension: str
    items: list[ItemReview] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{Aspect(self.aspect).label} {Dimension(self.dimension).label.lower()}"


@dataclass
class OutcomeReview:
    outcome: Outcome
    status: str
    figures: list[Measurement] = field(default_factory=list)


@dataclass
class ServiceReview:
    service: Service
    subscriptions: list[Subscription]
    quadrants: list[Quadrant]
    outcomes: list[OutcomeReview]
    improvements: list[Improvement]
    charge: Decimal | None = None
    cost_to_serve: Decimal | None = None


@dataclass
class ReviewPack:
    customer: Customer
    span: ReportSpan
    first_day: datetime.date
    last_day: datetime.date
    services: list[ServiceReview]
    # Whether every month of the period has a statement of the customer: else the charges
    # and cost to serve cover only the months that have one.
    statements_complete: bool
    currency: str = field(default_factory=lambda: settings.PORTICO_CURRENCY)
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def title(self) -> str:
        return f"Service review · {self.customer.name} · {self.span.label}"

    @property
    def key(self) -> str:
        return f"service-review-{self.customer.slug}-{self.span.key}"

    @property
    def charge(self) -> Decimal | None:
        amounts = [s.charge for s in self.services if s.charge is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    @property
    def cost_to_serve(self) -> Decimal | None:
        amounts = [s.cost_to_serve for s in self.services if s.cost_to_serve is not None]
        return sum(amounts, Decimal(0)) if amounts else None


def review_pack(*, customer: Customer, span: ReportSpan) -> ReviewPack:
    """The review pack of ``customer`` for ``span`` (a month or a quarter). Eleven queries."""
    first_day, last_day = span_days(span)
    subscriptions = list(
        Subscription.objects.filter(subscriptions_in_force(last_day), customer=customer)
        .select_related("service", "service__owner")
        .order_by("service__name", "id")
    )
    by_service: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_service[subscription.service_id].append(subscription)
    service_ids = list(by_service)
    items = list(
        SpecificationItem.objects.filter(service_id__in=service_ids).order_by(
            "service_id", "aspect", "dimension", "position", "id"
        )
    )
    outcomes = list(
        Outcome.objects.filter(subscription__in=subscriptions)
        .select_related("specification_item")
        .order_by("subscription_id", "id")
    )
    item_status = performance.statuses_of_items(items, last_day)
    outcome_status = performance.statuses_of_outcomes(outcomes, last_day)
    figures_of_items: dict[int, list[Measurement]] = defaultdict(list)
    figures_of_outcomes: dict[int, list[Measurement]] = defaultdict(list)
    for figure in Measurement.objects.filter(
        end__gte=first_day, end__lte=last_day, item__service_id__in=service_ids
    ).order_by("end", "start", "id"):
        figures_of_items[figure.item_id].append(figure)
    for figure in Measurement.objects.filter(
        end__gte=first_day, end__lte=last_day, outcome__in=outcomes
    ).order_by("end", "start", "id"):
        figures_of_outcomes[figure.outcome_id].append(figure)
    improvements: dict[int, list[Improvement]] = defaultdict(list)
    for improvement in (
        Improvement.objects.filter(service_id__in=service_ids, status__in=OPEN_STATUSES)
        .select_related("value_stream", "item", "outcome")
        .order_by("-suggested_on", "-id")
    ):
        improvements[improvement.service_id].append(improvement)
    periods = list(Period.objects.filter(serial__gte=span.first, serial__lte=span.last))
    statements = current_statements().filter(customer=customer, period__in=periods)
    money: dict[int, tuple[Decimal, Decimal]] = {
        service_id: (revenue, cost)
        for service_id, revenue, cost in StatementLine.objects.filter(statement__in=statements)
        .values("service_id")
        .annotate(revenue=Sum("revenue"), cost=Sum("cost_to_serve"))
        .values_list("service_id", "revenue", "cost")
        .order_by()
    }
    statement_months = set(statements.values_list("period__serial", flat=True).order_by())
    items_of: dict[tuple[int, str, str], list[ItemReview]] = defaultdict(list)
    for item in items:
        items_of[item.service_id, item.aspect, item.dimension].append(
            ItemReview(item, item_status.get(item.pk), figures_of_items.get(item.pk, []))
        )
    reviews = []
    for service_id, held in by_service.items():
        mine = {subscription.pk for subscription in held}
        revenue, cost = money.get(service_id, (None, None))
        if statement_months and revenue is None:
            revenue = cost = Decimal(0)
        reviews.append(
            ServiceReview(
                service=held[0].service,
                subscriptions=held,
                quadrants=[
                    Quadrant(aspect, dimension, items_of[service_id, aspect, dimension])
                    for aspect, dimension in QUADRANTS
                ],
                outcomes=[
                    OutcomeReview(
                        outcome,
                        outcome_status[outcome.pk],
                        figures_of_outcomes.get(outcome.pk, []),
                    )
                    for outcome in outcomes
                    if outcome.subscription_id in mine
                ],
                improvements=improvements.get(service_id, []),
                charge=revenue,
                cost_to_serve=cost,
            )
        )
    return ReviewPack(
        customer=customer,
        span=span,
        first_day=first_day,
        last_day=last_day,
        services=reviews,
        statements_complete=len(statement_months) == len(span.serials),
    )


def customers_in_force(span: ReportSpan) -> list[Customer]:
    """The customers (not retired) with a subscription in force on ``span``'s last day, with
    their relationship managers, by name: whose packs a scheduled report makes."""
    _first, last_day = span_days(span)
    held = Subscription.objects.filter(subscriptions_in_force(last_day)).values("customer_id")
    return list(
        Customer.objects.filter(pk__in=held, retired_at__isnull=True)
        .select_related("relationship_manager")
        .order_by("name", "id")
    )
