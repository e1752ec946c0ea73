"""Shared makers of the performance tests: through services.py, as every write path."""

import datetime
from decimal import Decimal

from django.utils import timezone

from performance.models import Measurement
from performance.services import save_measurement
from portfolio import services as portfolio_services
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import SpecificationItem
from tests.factories.portfolio import SubscriptionFactory

MEASURE = {
    "metric": "availability",
    "comparator": "at_least",
    "target": Decimal("99.5"),
    "unit": "%",
    "window": "month",
}


def today() -> datetime.date:
    return timezone.localdate()


def new_service(name="Claims", *, owner=None) -> Service:
    return portfolio_services.save_service(
        service=Service(name=name, kind="customer_facing", owner=owner)
    )


def functioning_item(service, title="Available", **measure) -> SpecificationItem:
    return portfolio_services.add_specification_item(
        item=SpecificationItem(
            service=service,
            aspect="facility",
            dimension="functioning",
            title=title,
            **{**MEASURE, **measure},
        )
    )


def outcome_of(service, *, item=None, **fields) -> Outcome:
    subscription = SubscriptionFactory(service=service)
    return portfolio_services.save_outcome(
        outcome=Outcome(
            subscription=subscription,
            statement="Our customers can always file a claim",
            specification_item=item,
            **fields,
        )
    )


def figure(*, item=None, outcome=None, end, value, days=30, user=None, **fields) -> Measurement:
    """A figure over the ``days`` days ending on ``end``."""
    return save_measurement(
        measurement=Measurement(
            item=item,
            outcome=outcome,
            start=end - datetime.timedelta(days=days - 1),
            end=end,
            value=Decimal(value),
            **fields,
        ),
        user=user,
    )


def month_end(year: int, month: int) -> datetime.date:
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)
