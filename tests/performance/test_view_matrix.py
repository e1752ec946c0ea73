"""Who may do what on the performance pages, and their queries (tests/views.py turns each spec
into its cases): every role reads an item's figures; the service's owner and Portfolio
managers add and remove figures on the service page."""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from core import roles
from performance.models import Measurement
from performance.services import save_measurement
from portfolio.models import SpecificationItem
from tests.factories.performance import MeasurementFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.views import INVALID
from tests.views import OTHER_OWNER
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
        "add on its page": add(
            "performance:item_figure_add",
            args=lambda figure: [figure.item_id],
            needs="change",
            data=lambda figure: {
                "start": "2026-11-01",
                "end": "2026-11-30",
                "value": "99.25",
                "note": "November report",
            },
            done=figure_added,
        ),
        "remove": post(
            "performance:item_figure_remove",
            args=lambda figure: [figure.item_id, figure.pk],
            done=figure_removed,
        ),
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


# --- An outcome measured directly -----------------------------------------------------------


def make_outcome_figure(owner):
    """A figure of an outcome of a subscription to a service of ``owner``."""
    subscription = SubscriptionFactory(service=ServiceFactory(owner=owner))
    outcome = OutcomeFactory(subscription=subscription, comparator="at_least", window="month")
    return save_measurement(
        measurement=Measurement(
            outcome=outcome,
            start=datetime.date(2026, 10, 1),
            end=datetime.date(2026, 10, 31),
            value=Decimal("97"),
        )
    )


def more_outcome_figures(figure, owner):
    for month in range(1, 10):
        MeasurementFactory(
            item=None,
            outcome=figure.outcome,
            start=datetime.date(2025, month, 1),
            end=datetime.date(2025, month, 28),
            value=Decimal("90"),
            met=False,
        )


def outcome_figure_added(figure):
    added = Measurement.objects.filter(outcome=figure.outcome, value=Decimal("94.5")).get()
    assert (added.start, added.end, added.met) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 30),
        False,
    )


OUTCOME_FIGURE = ViewSpec(
    name="figures of an outcome",
    make=make_outcome_figure,
    url_args=lambda figure: [figure.outcome_id, figure.pk],
    owner_role=roles.SERVICE_OWNER,
    label=lambda figure: figure.outcome.statement,
    actions={
        "outcome": read("performance:outcome_series", args=lambda figure: [figure.outcome_id]),
        "add": add(
            "performance:outcome_figure_add",
            args=lambda figure: [figure.outcome_id],
            needs="change",
            data=lambda figure: {"start": "2026-11-01", "end": "2026-11-30", "value": "94.5"},
            done=outcome_figure_added,
        ),
        "remove": post("performance:outcome_figure_remove", done=figure_removed),
    },
    queries={
        "outcome": Queries(
            bound=14,
            populate=more_outcome_figures,
            persona=role_persona(roles.VIEWER),
        ),
    },
)
test_outcome_figure_views = view_tests(OUTCOME_FIGURE)


# --- Figures from a CSV file ------------------------------------------------------------------


def importable_item(owner):
    """A functioning item of a service of ``owner``, known to the import by its external id."""
    return SpecificationItemFactory(
        service=ServiceFactory(owner=owner),
        functioning=True,
        source="csv",
        external_id=f"item-{owner.pk}-{SpecificationItem.objects.count()}",
    )


def imported(item):
    figure = Measurement.objects.get(item=item)
    assert (figure.source, figure.external_id, figure.value) == ("csv", "f-1", Decimal("99.9"))


def csv_file(item) -> dict:
    text = f"external_id,item,start,end,value\nf-1,{item.external_id},2026-11-01,2026-11-30,99.9\n"
    return {"file": SimpleUploadedFile("figures.csv", text.encode()), "source": "csv"}


IMPORT = ViewSpec(
    name="import of figures",
    make=importable_item,
    owner_role=roles.SERVICE_OWNER,
    label=lambda item: "Import figures",
    owner_may=("add",),
    actions={
        "import": add(
            "performance:measurement_import",
            data=csv_file,
            done=imported,
            watch=(Measurement,),
            # The owner of other services may import figures, but not for this service's item:
            # the sync refuses the file (422), nothing written.
            expect={OTHER_OWNER: INVALID},
        ),
    },
)
test_import_views = view_tests(IMPORT)


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
