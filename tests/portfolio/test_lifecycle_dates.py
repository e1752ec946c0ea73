"""A service's lifecycle dates are what was given: one not given stays empty and reads
"unknown", in the browser, the API and a sync alike; a change of lifecycle stamps its day."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.api.tokens import issue_token
from portfolio.models import Service
from tests.api.conftest import ApiClient
from tests.api.helpers import service_item
from tests.api.helpers import sync
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db

GIVEN = datetime.date(2019, 4, 1)


@pytest.fixture
def api(portfolio_manager):
    _, secret = issue_token(user=portfolio_manager, name="script", write=True)
    return ApiClient(secret)


def test_the_api_and_a_sync_keep_unknown_dates_empty_and_given_ones(api, portfolio_manager):
    created = api.post(
        "/api/v1/services/",
        {"name": "Claims", "kind": "supporting", "lifecycle": "live", "owner": "pm"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["live_on"] is None and created.json()["pipeline_on"] is None
    dated = api.post(
        "/api/v1/services/",
        {
            "name": "Billing",
            "kind": "supporting",
            "lifecycle": "live",
            "owner": "pm",
            "live_on": GIVEN.isoformat(),
        },
    )
    assert dated.json()["live_on"] == GIVEN.isoformat()

    response = sync(
        api,
        "services",
        [
            service_item(1, lifecycle="live", owner="pm"),
            service_item(2, lifecycle="retired", live_on=GIVEN.isoformat()),
            service_item(3),
        ],
    )
    assert response.status_code == 200, response.json()
    stored = {s.external_id: s for s in Service.objects.filter(source="cmdb")}
    assert stored["svc-1"].live_on is None
    assert (stored["svc-2"].live_on, stored["svc-2"].retired_on) == (GIVEN, None)
    assert stored["svc-3"].pipeline_on is None

    # Filterable: live (or retired) services whose go-live date nobody recorded.
    unknown = api.get("/api/v1/services/", live_on="unknown").json()["results"]
    assert {s["name"] for s in unknown} == {"Claims", "Service 1"}
    known = api.get("/api/v1/services/", live_on="known").json()["results"]
    assert {s["name"] for s in known} == {"Billing", "Service 2"}

    # A later change of lifecycle is dated: it happens now.
    sync(api, "services", [service_item(3, lifecycle="live", owner="pm")])
    assert Service.objects.get(external_id="svc-3").live_on == timezone.localdate()


def test_the_browser_keeps_unknown_dates_empty_and_shows_them_unknown(client, portfolio_manager):
    client.force_login(portfolio_manager)
    data = {
        "name": "Hosting",
        "kind": "supporting",
        "lifecycle": "live",
        "criticality": "high",
        "owner": portfolio_manager.pk,
    }
    response = client.post(reverse("portfolio:service_add"), data)
    assert response.status_code in (200, 302), response.content[:500]
    hosting = Service.objects.get(name="Hosting")
    assert hosting.live_on is None
    page = client.get(hosting.get_absolute_url()).content.decode()
    assert "live since unknown" in page
    response = client.post(
        reverse("portfolio:service_add"),
        {**data, "name": "Backup", "live_on": GIVEN.isoformat()},
    )
    assert Service.objects.get(name="Backup").live_on == GIVEN

    listing = client.get(reverse("portfolio:service_list"), {"live_on": "unknown"})
    rows = listing.content.decode()
    assert ">Hosting</a>" in rows and ">Backup</a>" not in rows and "unknown" in rows
    assert "Live since" in rows


def test_a_pipeline_service_is_not_date_unknown(client, viewer):
    ServiceFactory(name="Idea")
    live = ServiceFactory(name="Running", live=True)
    live.live_on = None
    live.save()
    client.force_login(viewer)
    rows = client.get(reverse("portfolio:service_list"), {"live_on": "unknown"}).content.decode()
    assert ">Running</a>" in rows and ">Idea</a>" not in rows
