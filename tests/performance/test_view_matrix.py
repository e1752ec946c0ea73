"""Who may do what on the performance pages, and their queries (tests/views.py turns each spec
into its cases): every role reads an item's figures; the service's owner and Portfolio
managers add and remove figures on the service page."""

import datetime
from decimal import Decimal

from core import roles
from performance.models import Measurement
from tests.factories.performance import MeasurementFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
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
