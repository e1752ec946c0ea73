"""The dashboard per role in a real browser, at 1440 px and at a phone's 390 px: its charts are
drawn, and nothing makes the page wider than the screen."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from core.models import ObjectChange
from finance import services
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The charts of someone holding every role but viewer's, by their titles.
CHARTS = (
    "Services by lifecycle, fully specified or incomplete",
    "TCO of the portfolio by month",
    "TCO of your services by month",
    "Input, kept by services and unallocated cost by month",
    "Lead time of Settle a claim by month, in hours",
    "Activity ratio of Settle a claim by month, in percent",
)


@pytest.fixture
def everyone():
    user = UserFactory(username="browser-everyone", role="Portfolio manager")
    for role in ("Service owner", "Value-stream owner", "Finance"):
        user.groups.add(Group.objects.get(name=role))
    pool = CostPoolFactory(name="Shared office")
    mine = [
        ServiceFactory(
            name=f"Long-named customer-facing service number {number}", owner=user, live=True
        )
        for number in range(3)
    ]
    for month in (9, 10):
        period = PeriodFactory(year=2026, month=month)
        for number, service in enumerate(mine):
            CostItemFactory(period=period, service=service, amount=Decimal(1000 * month + number))
        CostItemFactory(period=period, pool=pool, amount=Decimal("250.00"))
        services.recompute_tco(period=period)
    stream = ValueStreamFactory(name="Settle a claim", slug="settle-a-claim", owner=user)
    stage = StageFactory(value_stream=stream)
    # Entered two months ago and changed since: the lines by month have figures to draw.
    ObjectChange.objects.filter(object_id=str(stage.pk)).update(
        time=timezone.now() - datetime.timedelta(days=62)
    )
    stage.lead_time_minutes = Decimal(240)
    stage.save()
    ImprovementFactory(value_stream=stream, title="Skip the second review")
    return user


@pytest.mark.parametrize("width", [1440, 390])
def test_dashboard_draws_its_charts_within_the_screen(page, live_server, login, everyone, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(everyone.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    for title in CHARTS:
        chart = page.get_by_role("img", name=title)
        expect(chart).to_have_count(1)
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= width + 1
    assert page.locator("svg.chart rect, svg.chart circle").count() > 10
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the {width}px screen"
    # The figures behind a chart open as a table.
    trend = page.locator("figure", has=page.get_by_role("img", name=CHARTS[1]))
    trend.get_by_text("Figures").click()
    expect(trend.get_by_role("row", name="2026-10")).to_be_visible()
