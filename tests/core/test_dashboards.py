"""The dashboard per role (docs/dashboards.md): each role's panels and their numbers on a small
hand-made portfolio, someone holding several roles, and the query count at 2 and 20 services."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core.charts import Series
from core.charts import columns
from core.charts import line
from core.models import ObjectChange
from finance import selectors as finance_selectors
from finance import services as finance_services
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from tests.performance.helpers import figure
from tests.performance.helpers import functioning_item
from tests.portfolio.helpers import queries_for
from valuestreams.choices import ImprovementStatus

pytestmark = pytest.mark.django_db


def headings(body: str) -> list[str]:
    return re.findall(r'<h2 id="role-\d+" class="subheading">([^<]+)</h2>', body)


def panel_titles(body: str) -> list[str]:
    return re.findall(r'<h3 class="card-title">([^<]+)</h3>', body)


def last_month() -> tuple[datetime.date, datetime.date]:
    end = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def missed_target(service, title="Claims answered within a day"):
    """A functioning item whose figure for last month missed its 99.5 % target (written
    through performance.services, which keeps the item's standing)."""
    item = functioning_item(service, title)
    figure(item=item, end=last_month()[1], value="97")
    return item


def two_months_with_cost(owner=None):
    """Two closed months of cost: a service of ``owner`` that grows, another one that
    shrinks, and a pool nobody draws on (its cost stays unallocated)."""
    first, second = PeriodFactory(year=2026, month=9), PeriodFactory(year=2026, month=10)
    mine = ServiceFactory(name="Online claims", live=True, **({"owner": owner} if owner else {}))
    other = ServiceFactory(name="Broker portal", live=True)
    pool = CostPoolFactory(name="Shared office")
    CostItemFactory(period=first, service=mine, amount=Decimal("1000.00"))
    CostItemFactory(period=second, service=mine, amount=Decimal("1500.00"))
    CostItemFactory(period=first, service=other, amount=Decimal("800.00"))
    CostItemFactory(period=second, service=other, amount=Decimal("700.00"))
    CostItemFactory(period=second, pool=pool, amount=Decimal("250.00"))
    for period in (first, second):
        finance_services.recompute_tco(period=period)
    return first, second


# --- Charts ---------------------------------------------------------------------------------------


def test_columns_put_zero_on_the_axis_and_keep_every_figure_for_the_table():
    chart = columns(
        ["2026-09", "2026-10"],
        [Series("Kept", "chart-kept", [Decimal(100), Decimal(-20)])],
    )
    assert chart["low"] == Decimal(-20) and chart["high"] == Decimal(100)
    first, second = (slot.columns[0] for slot in chart["slots"])
    assert first.y + first.height == pytest.approx(chart["zero"], abs=0.2)
    assert second.y == chart["zero"]  # a negative figure hangs below the axis
    assert chart["rows"] == [("2026-09", [Decimal(100)]), ("2026-10", [Decimal(-20)])]


def test_charts_draw_nothing_without_figures():
    assert columns([], []) is None
    assert columns(["a"], [Series("x", "c", [None])]) is None
    assert line(["2026-10"], [None]) is None


def test_many_months_label_only_some_slots_so_labels_never_overlap():
    labels = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]
    chart = columns(labels, [Series("x", "c", [Decimal(1)] * 24)])
    shown = [slot.shown for slot in chart["slots"] if slot.shown]
    assert 0 < len(shown) < 24
    assert len(chart["rows"]) == 24  # the table keeps every month


# --- Roles ----------------------------------------------------------------------------------------


def test_a_portfolio_manager_sees_the_portfolio_not_an_empty_my_services(client, portfolio_manager):
    ServiceFactory(name="Quote and buy", live=True)
    missed_target(ServiceFactory(name="Claims handling", live=True))
    client.force_login(portfolio_manager)
    body = client.get(reverse("dashboard")).content.decode()
    assert headings(body) == ["Portfolio manager"]
    assert panel_titles(body) == [
        "Services by lifecycle",
        "Targets",
        "Cost of the portfolio",
        "Contracts to act on",
        "Value maturity",
    ]
    assert "You own no services yet" not in body
    assert "<strong>2</strong> services" in body and "2 incomplete" in body
    assert 'aria-labelledby="lifecycle-chart-title"' in body
    assert "Services by lifecycle, fully specified or incomplete" in body
    # The missed target is named, with its service.
    assert "Claims answered within a day" in body and ">Claims handling</a>" in body
    assert "1 missed</span>" in body


def test_the_unallocated_amount_is_what_fund_services_shows(client, portfolio_manager):
    _first, second = two_months_with_cost()
    totals = finance_selectors.period_totals(period=second)
    assert totals["unallocated"] == Decimal("250.00")
    client.force_login(portfolio_manager)
    body = client.get(reverse("dashboard")).content.decode()
    assert "<strong data-unallocated>250.00</strong>" in body
    fund = client.get(reverse("finance:overview"), {"period": second.label}).content.decode()
    assert "<small>Unallocated</small><strong>250.00</strong>" in fund
    # TCO by month: both months, as columns and in the table of figures.
    assert 'aria-labelledby="tco-trend-title"' in body
    assert '<th scope="row">2026-09</th><td class="num">1,800.00</td>' in body
    assert '<th scope="row">2026-10</th><td class="num">2,200.00</td>' in body


def test_a_service_owner_sees_their_services_targets_and_tco_trend(client, service_owner):
    two_months_with_cost(owner=service_owner)
    missed_target(ServiceFactory(name="Claims handling", owner=service_owner, live=True))
    missed_target(ServiceFactory(name="Not mine", live=True), title="Someone else's")
    client.force_login(service_owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert headings(body) == ["Service owner"]
    assert panel_titles(body) == [
        "My services",
        "TCO of your services",
        "Targets",
        "Value maturity",
    ]
    assert "<strong>2</strong> services" in body
    assert "0/4" in body or "1/4" in body  # the quadrants filled, per service
    assert "Claims answered within a day" in body and "Someone else&#x27;s" not in body
    # Only their own service's TCO: 1,500.00 in October, up 500.00 on September.
    assert "<strong data-my-tco>1,500.00</strong>" in body
    assert 'aria-labelledby="my-tco-trend-title"' in body
    assert ">+500.00</td>" in body and "Broker portal" not in body


def test_finance_sees_period_status_reconciliation_and_movers(client, finance_user):
    first, _second = two_months_with_cost()
    finance_services.close_period(period=first, user=finance_user)
    client.force_login(finance_user)
    body = client.get(reverse("dashboard")).content.decode()
    assert headings(body) == ["Finance"]
    assert panel_titles(body) == [
        "Periods",
        "Input, kept and unallocated",
        "Largest movers",
        "Contracts to act on",
    ]
    periods = body[body.index("<table data-periods>") :]
    assert periods.index("2026-10") < periods.index("2026-09")
    assert '<span class="badge">closed</span>' in periods
    assert "input <strong>2,450.00</strong> = kept <strong>2,200.00</strong>" in body
    assert "unallocated <strong data-unallocated>250.00</strong>" in body
    movers = body[body.index("<table data-movers>") :]
    assert movers.index("Online claims") < movers.index("Broker portal")
    assert ">+500.00</td>" in movers and ">-100.00</td>" in movers


def test_a_value_stream_owner_sees_lead_time_and_activity_ratio_over_time(
    client, value_stream_owner
):
    stream = ValueStreamFactory(
        name="Settle a claim", slug="settle-a-claim", owner=value_stream_owner
    )
    stage = StageFactory(value_stream=stream)  # 30 minutes' work in 2 hours: 25 %
    # The stage was entered two months ago; this month its lead time doubled.
    two_months_ago = timezone.now() - datetime.timedelta(days=62)
    ObjectChange.objects.filter(object_id=str(stage.pk)).update(time=two_months_ago)
    stage.lead_time_minutes = Decimal(240)
    stage.save()
    ImprovementFactory(value_stream=stream, title="Skip the second review")
    ImprovementFactory(
        value_stream=stream, title="Rejected already", status=ImprovementStatus.REJECTED
    )
    client.force_login(value_stream_owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert headings(body) == ["Value-stream owner"]
    assert panel_titles(body) == ["Your value streams", "Open improvements"]
    assert "<strong data-lead-time>4 h</strong>" in body
    assert "<strong data-activity-ratio>12.5%</strong>" in body
    assert "1 open improvement<" in body
    assert 'aria-labelledby="lead-settle-a-claim-title"' in body
    lead = body[body.index('aria-labelledby="lead-settle-a-claim-title"') :]
    lead = lead[: lead.index("</figure>")]
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).strftime("%Y-%m")
    assert f'<th scope="row">{month}</th><td class="num">2 h</td>' in lead
    assert lead.count("<circle") >= 2  # a line, not a single figure
    assert "Skip the second review" in body and "Rejected already" not in body


def test_a_stream_recorded_this_month_only_has_no_lines_yet(client, value_stream_owner):
    stream = ValueStreamFactory(name="Settle a claim", owner=value_stream_owner)
    StageFactory(value_stream=stream)
    client.force_login(value_stream_owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert "<strong data-lead-time>2 h</strong>" in body
    assert f"Recorded since {timezone.localdate():%Y-%m}" in body
    assert "<svg" not in body


def test_someone_with_several_roles_sees_each_roles_panels_once(client, service_owner):
    service_owner.groups.add(Group.objects.get(name="Finance"))
    client.force_login(service_owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert headings(body) == ["Service owner", "Finance"]
    titles = panel_titles(body)
    assert "My services" in titles and "Largest movers" in titles
    assert len(titles) == len(set(titles))


def test_a_viewer_sees_the_portfolio_read_only(client, viewer):
    ContractFactory(
        reference="H-1", renewal_date=timezone.localdate() + datetime.timedelta(days=100)
    )
    client.force_login(viewer)
    body = client.get(reverse("dashboard")).content.decode()
    assert headings(body) == ["Viewer"]
    assert panel_titles(body) == ["Services by lifecycle", "Contracts to act on", "Value maturity"]
    assert "H-1" in body


def test_someone_without_a_role_is_told_so(client):
    client.force_login(UserFactory(username="no-role"))
    body = client.get(reverse("dashboard")).content.decode()
    assert "Your account holds no role yet" in body
    assert panel_titles(body) == []


# --- Queries --------------------------------------------------------------------------------------


def test_dashboard_queries_are_the_same_at_2_and_20_services(client, django_assert_num_queries):
    everyone = UserFactory(username="everything")
    for role in ("Portfolio manager", "Service owner", "Value-stream owner", "Finance"):
        everyone.groups.add(Group.objects.get(name=role))
    period = PeriodFactory(year=2026, month=10)
    streams = [ValueStreamFactory(owner=everyone) for _ in range(2)]

    def add_services(count: int) -> None:
        for _ in range(count):
            service = ServiceFactory(owner=everyone, live=True)
            missed_target(service)
            CostItemFactory(period=period, service=service, amount=Decimal("10.00"))
            ContractFactory(renewal_date=timezone.localdate() + datetime.timedelta(days=100))
            for stream in streams:
                StageFactory(value_stream=stream)
                ImprovementFactory(value_stream=stream)
        finance_services.recompute_tco(period=period)

    add_services(2)
    client.force_login(everyone)
    url = reverse("dashboard")
    few = queries_for(client, url)
    add_services(18)
    with django_assert_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200
