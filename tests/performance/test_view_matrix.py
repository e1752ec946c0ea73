"""Who may do what on the performance pages, and their queries (tests/views.py turns each spec
into its cases): every role reads an item's figures; the service's owner and Portfolio
managers add and remove figures on the service page."""

import datetime
from decimal import Decimal

from core import roles
from performance.models import Measurement
from performance.services import save_measurement
from tests.factories.performance import MeasurementFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import listing
from tests.views import post
from tests.views import read
from tests.views import role_persona
from tests.views import view_tests


def make_figure(owner):
    """A figure of a functioning item of a service of ``owner``."""
    item = SpecificationItemFactory(service=ServiceFactory(owner=owner), functioning=True)
    return MeasurementFactory(item=item)


def more_figures(figure, owner):
    for month in range(1, 10):
        MeasurementFactory(
            item=figure.item,
            start=datetime.date(2025, month, 1),
            end=datetime.date(2025, month, 28),
            value=Decimal("99.9"),
        )


def figure_added(figure):
    added = Measurement.objects.filter(item=figure.item, value=Decimal("99.25")).get()
    assert (added.start, added.end, added.met) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 30),
        False,
    )


def figure_removed(figure):
    assert not Measurement.objects.filter(pk=figure.pk).exists()


FIGURE = ViewSpec(
    name="figures",
    make=make_figure,
    url_args=lambda figure: [figure.item.service.slug, figure.pk],
    owner_role=roles.SERVICE_OWNER,
    label=lambda figure: figure.item.title,
    actions={
        "item": read("performance:item_series", args=lambda figure: [figure.item_id]),
        "add": add(
            "performance:measurement_add",
            args=lambda figure: [figure.item.service.slug, figure.item_id],
            needs="change",
            data=lambda figure: {
                "start": "2026-11-01",
                "end": "2026-11-30",
                "value": "99.25",
                "note": "November report",
            },
            done=figure_added,
        ),
        "remove": post("performance:measurement_remove", done=figure_removed),
    },
    queries={
        "item": Queries(
            bound=14,
            populate=more_figures,
            persona=role_persona(roles.VIEWER),
        ),
    },
)
test_figure_views = view_tests(FIGURE)


# --- The attention list -------------------------------------------------------------------


def missed_item(owner):
    """A functioning item of a live service of ``owner`` whose latest figure missed."""
    item = SpecificationItemFactory(
        service=ServiceFactory(owner=owner, lifecycle="live"), functioning=True
    )
    save_measurement(
        measurement=Measurement(
            item=item,
            start=datetime.date.today().replace(day=1),
            end=datetime.date.today(),
            value=Decimal("90"),
        )
    )
    return item


def more_missed_items(item, owner):
    for _ in range(20):
        missed_item(owner)


ATTENTION = ViewSpec(
    name="attention list",
    make=missed_item,
    label=lambda item: item.title,
    owner_role=roles.SERVICE_OWNER,
    actions={
        "items": listing("performance:attention_items"),
    },
    queries={
        "items": Queries(bound=12, make=missed_item, populate=more_missed_items, rows=21),
    },
)
test_attention_views = view_tests(ATTENTION)


def outcome_at_risk(owner):
    item = missed_item(owner)
    subscription = SubscriptionFactory(service=item.service)
    return OutcomeFactory(subscription=subscription, specification_item=item)


def more_outcomes_at_risk(outcome, owner):
    for _ in range(20):
        outcome_at_risk(owner)


ATTENTION_OUTCOMES = ViewSpec(
    name="attention list of outcomes",
    make=outcome_at_risk,
    label=lambda outcome: outcome.statement,
    owner_role=roles.SERVICE_OWNER,
    actions={"outcomes": listing("performance:attention_outcomes")},
    queries={
        "outcomes": Queries(
            bound=12, make=outcome_at_risk, populate=more_outcomes_at_risk, rows=21
        ),
    },
)
test_attention_outcome_views = view_tests(ATTENTION_OUTCOMES)
