"""The measurements resource and the status of items and outcomes, through the API: three
months of figures synced for ten items read back as met or missed per month; the outcome
relying on a missed item reads at risk; an item whose figures stopped is listed as stale."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from performance.models import Measurement
from performance.models import TargetChange
from tests.api.helpers import changes_of
from tests.api.helpers import sync
from tests.factories.portfolio import SubscriptionFactory
from tests.performance.helpers import month_end

pytestmark = pytest.mark.django_db

ITEMS = 10
STALE = 9  # the item whose only figure is three months old


def last_months(count: int) -> list[tuple[datetime.date, datetime.date]]:
    """The last ``count`` full months before today, oldest first: (first day, last day)."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1
    months = []
    for back in range(count, 0, -1):
        year, month = divmod(index - back, 12)
        months.append((datetime.date(year, month + 1, 1), month_end(year, month + 1)))
    return months


def misses(n: int, month: int) -> bool:
    return (n + month) % 4 == 0


def figures_of(months) -> list[dict]:
    rows = []
    for n in range(ITEMS):
        for m, (first, last) in enumerate(months):
            if n == STALE and m > 0:
                continue
            rows.append(
                {
                    "external_id": f"fig-{n}-{first:%Y-%m}",
                    "item": {"external_id": f"item-{n}"},
                    "start": first.isoformat(),
                    "end": last.isoformat(),
                    "value": "99.1" if misses(n, m) else "99.8",
                    "note": f"Monthly report {first:%Y-%m}",
                }
            )
    return rows


@pytest.fixture
def portfolio(pm_api):
    service = {"external_id": "svc-1", "name": "Online Claims", "kind": "customer_facing"}
    assert sync(pm_api, "services", [service]).status_code == 200
    items = [
        {
            "external_id": f"item-{n}",
            "service": {"external_id": "svc-1"},
            "aspect": "facility",
            "dimension": "functioning",
            "title": f"Measure {n}",
            "metric": "availability",
            "comparator": "at_least",
            "target": "99.5",
            "unit": "%",
            "window": "month",
        }
        for n in range(ITEMS)
    ]
    assert sync(pm_api, "specification-items", items).status_code == 200
    return items


def test_three_months_of_figures_for_ten_items_read_back_met_or_missed_per_month(pm_api, portfolio):
    months = last_months(3)
    response = sync(pm_api, "measurements", figures_of(months))
    assert response.status_code == 200, response.json()
    assert Measurement.objects.count() == 3 * ITEMS - 2
    assert changes_of(Measurement).count() == 3 * ITEMS - 2

    for n in range(ITEMS):
        item_id = next(
            row["id"]
            for row in pm_api.get("/api/v1/specification-items/").json()["results"]
            if row["external_id"] == f"item-{n}"
        )
        rows = pm_api.get("/api/v1/measurements/", item=item_id).json()["results"]
        got = [(row["end"], row["met"]) for row in sorted(rows, key=lambda r: r["end"])]
        expected = [
            (last.isoformat(), not misses(n, m))
            for m, (_first, last) in enumerate(months)
            if n != STALE or m == 0
        ]
        assert got == expected

    statuses = {
        row["external_id"]: row["status"]
        for row in pm_api.get("/api/v1/specification-items/").json()["results"]
    }
    latest = len(months) - 1
    for n in range(ITEMS - 1):
        assert statuses[f"item-{n}"] == ("missed" if misses(n, latest) else "met")
    assert statuses[f"item-{STALE}"] == "stale"
    stale = pm_api.get("/api/v1/specification-items/", status="stale").json()["results"]
    assert [row["external_id"] for row in stale] == [f"item-{STALE}"]


def test_outcome_relying_on_a_missed_item_reads_at_risk_in_the_api(pm_api, portfolio):
    months = last_months(3)
    latest = len(months) - 1
    missed = next(n for n in range(ITEMS - 1) if misses(n, latest))
    met = next(n for n in range(ITEMS - 1) if not misses(n, latest))
    sync(pm_api, "measurements", figures_of(months))
    subscription = SubscriptionFactory(
        service_id=pm_api.get("/api/v1/services/").json()["results"][0]["id"]
    )
    outcomes = [
        {
            "external_id": f"out-{n}",
            "subscription": subscription.pk,
            "statement": "Claims can be filed at any hour",
            "specification_item": {"external_id": f"item-{n}"},
            "agreement": "agreed",
        }
        for n in (missed, met)
    ]
    assert sync(pm_api, "outcomes", outcomes).status_code == 200
    rows = pm_api.get("/api/v1/outcomes/").json()["results"]
    assert {row["external_id"]: row["status"] for row in rows} == {
        f"out-{missed}": "at_risk",
        f"out-{met}": "met",
    }
    at_risk = pm_api.get("/api/v1/outcomes/", status="at_risk").json()["results"]
    assert [row["external_id"] for row in at_risk] == [f"out-{missed}"]


def test_measurement_sync_refuses_bad_figures_naming_the_field(pm_api, portfolio):
    first, last = last_months(1)[0]
    bad = [
        {"external_id": "a", "item": {"external_id": "item-0"}, "start": last.isoformat(),
         "end": first.isoformat(), "value": "99"},
        {"external_id": "b", "start": first.isoformat(), "end": last.isoformat(), "value": "1"},
        {"external_id": "c", "item": {"external_id": "item-1"}, "start": first.isoformat(),
         "end": last.isoformat(), "value": "99"},
        {"external_id": "d", "item": {"external_id": "item-1"}, "start": first.isoformat(),
         "end": last.isoformat(), "value": "98"},
    ]  # fmt: skip
    response = sync(pm_api, "measurements", bad)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"items.0.end", "items.1.item", "items.3.start"}
    assert Measurement.objects.count() == 0


def test_target_changed_through_the_api_keeps_past_figures_judgement(pm_api, portfolio):
    months = last_months(2)
    # The items' first target has been in force since before these months.
    TargetChange.objects.update(valid_from=months[0][0] - datetime.timedelta(days=365))
    sync(pm_api, "measurements", figures_of(months))
    before = dict(Measurement.objects.values_list("external_id", "met"))
    raised = [{**portfolio[0], "target": "99.9"}]
    assert sync(pm_api, "specification-items", raised).status_code == 200
    assert dict(Measurement.objects.values_list("external_id", "met")) == before
    late = {
        "external_id": "late",
        "item": {"external_id": "item-0"},
        "start": timezone.localdate().isoformat(),
        "end": timezone.localdate().isoformat(),
        "value": "99.8",
    }
    assert sync(pm_api, "measurements", [late]).status_code == 200
    assert Measurement.objects.get(external_id="late").met is False
    history = TargetChange.objects.filter(item__external_id="item-0").order_by("valid_from")
    assert [change.target for change in history] == [Decimal("99.5"), Decimal("99.9")]


def test_full_sync_deletes_figures_the_source_no_longer_sends_and_status_follows(pm_api, portfolio):
    months = last_months(2)
    sync(pm_api, "measurements", figures_of(months))
    latest = [row for row in figures_of(months) if row["end"] == months[-1][1].isoformat()]
    older = [row for row in figures_of(months) if row not in latest]
    response = sync(pm_api, "measurements", older, mode="full", allow_mass_retire=True)
    assert response.status_code == 200, response.json()
    assert Measurement.objects.count() == len(older)
    statuses = {
        row["external_id"]: row["status"]
        for row in pm_api.get("/api/v1/specification-items/").json()["results"]
    }
    for n in range(ITEMS - 1):
        assert statuses[f"item-{n}"] == ("missed" if misses(n, 0) else "met")
