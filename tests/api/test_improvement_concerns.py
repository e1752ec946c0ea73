"""Improvements of quadrant items through the API: a single write without a value stream,
and a sync of a done one whose measures come from the item's figures."""

from decimal import Decimal

import pytest

from tests.api.helpers import sync
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.valuestreams.test_improvement_concerns import COMPLETED
from tests.valuestreams.test_improvement_concerns import figure
from valuestreams.models import Improvement

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    service = ServiceFactory(name="Claims portal", live=True)
    return SpecificationItemFactory(
        service=service,
        functioning=True,
        title="Portal availability",
        source="cmdb",
        external_id="IT-1",
    )


def test_the_api_and_sync_write_improvements_of_items(
    item, portfolio_manager, api_for, django_capture_on_commit_callbacks
):
    api = api_for(portfolio_manager)
    figure(item, 8, "98.4")
    figure(item, 10, "99.8")
    created = api.post(
        "/api/v1/improvements/",
        {
            "title": "Add a second data centre",
            "suggested_by": portfolio_manager.username,
            "suggested_on": "2026-06-01",
            "item": {"source": "cmdb", "external_id": "IT-1"},
            "benefit_metric": "Availability",
            "benefit_from": "98.1",
            "benefit_to": "99.9",
            "benefit_unit": "%",
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["value_stream"] is None
    assert created.json()["service"]["id"] == item.service_id
    entry = {
        "external_id": "IMP-1",
        "title": "Add a second data centre",
        "suggested_by": portfolio_manager.username,
        "suggested_on": "2026-06-01",
        "item": {"source": "cmdb", "external_id": "IT-1"},
        "benefit_metric": "Availability",
        "benefit_from": "98.1",
        "benefit_to": "99.9",
        "benefit_unit": "%",
        "status": "done",
        "completed_on": COMPLETED.isoformat(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        synced = sync(api, "improvements", [entry], source="itsm")
    assert synced.status_code == 200, synced.json()
    stored = Improvement.objects.get(external_id="IMP-1")
    assert (stored.measured_before, stored.measured_after) == (Decimal("98.4"), Decimal("99.8"))
    assert stored.measured_from_series and stored.service_id == item.service_id
    # An item without figures: the measures are typed, and here they are missing.
    SpecificationItemFactory(
        service=item.service, functioning=True, source="cmdb", external_id="IT-2"
    )
    unmeasured = {
        **entry,
        "external_id": "IMP-2",
        "item": {"source": "cmdb", "external_id": "IT-2"},
    }
    refused = sync(api, "improvements", [unmeasured], source="itsm")
    assert refused.status_code == 400
    assert "items.0.measured_before" in refused.json()["errors"]
