"""A demo-like customer's service review pack reconciles with the API: the same subscribed
services, the same figures, the same charges and cost to serve as its statements."""

from decimal import Decimal

import pytest

from finance.selectors import review_packs
from tests.finance.test_review_packs import MARCH
from tests.finance.test_review_packs import make_review_month

pytestmark = pytest.mark.django_db


@pytest.fixture
def month():
    return make_review_month()


def test_the_pack_lists_exactly_the_subscribed_services_and_reconciles_with_the_api(month, pm_api):
    fleet = month["fleet"]
    pack = review_packs.review_pack(customer=fleet, span=MARCH)

    assert [review.service.name for review in pack.services] == ["Claims", "Quotes"]
    listed = pm_api.get(f"/api/v1/subscriptions/?customer={fleet.pk}&retired=false").json()
    in_force = {
        row["service"]["id"]
        for row in listed["results"]
        if row["start_date"] <= "2025-03-31"
        and (row["end_date"] is None or row["end_date"] >= "2025-03-31")
    }
    assert {review.service.pk for review in pack.services} == in_force

    claims = pack.services[0]
    (uptime,) = claims.quadrants[1].items  # facility functioning
    assert (uptime.item.title, uptime.met, uptime.missed) == ("Claims uptime", 1, 1)
    assert [str(figure.value) for figure in uptime.figures] == ["99.1000", "99.8000"]
    api_figures = pm_api.get(f"/api/v1/measurements/?item={uptime.item.pk}").json()["results"]
    in_march = [row for row in api_figures if "2025-03-01" <= row["end"] <= "2025-03-31"]
    assert [Decimal(row["value"]) for row in in_march] == [f.value for f in uptime.figures]
    assert [entry.outcome.statement for entry in claims.outcomes] == [
        "Our drivers file a claim in five minutes"
    ]
    assert [m.title for m in claims.improvements] == ["Pre-fill the claim form"]
    assert pack.services[1].improvements == []  # the rejected one is not open

    statement = pm_api.get(f"/api/v1/customer-statements/?customer={fleet.pk}&current=true").json()[
        "results"
    ]
    assert pack.statements_complete
    assert pack.charge == sum(Decimal(row["revenue"]) for row in statement)
    assert pack.cost_to_serve == sum(Decimal(row["cost_to_serve"]) for row in statement)
