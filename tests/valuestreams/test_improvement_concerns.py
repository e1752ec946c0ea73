"""Improvements may concern a service, a quadrant item or an outcome without a value stream;
a done one linked to an item takes its before/after from the item's figures around its
completion, typed numbers staying possible when there are none."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from performance.models import Measurement
from performance.services import save_measurement
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors
from valuestreams import services
from valuestreams.choices import ImprovementStatus
from valuestreams.models import Improvement

pytestmark = pytest.mark.django_db

COMPLETED = datetime.date(2026, 9, 15)


@pytest.fixture
def item(service_owner):
    service = ServiceFactory(name="Claims portal", live=True, owner=service_owner)
    return SpecificationItemFactory(
        service=service,
        functioning=True,
        title="Portal availability",
        source="cmdb",
        external_id="IT-1",
    )


def figure(item, month: int, value: str):
    """The item's figure of ``month`` of 2026, recorded through the measurement services."""
    start = datetime.date(2026, month, 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return save_measurement(
        measurement=Measurement(item=item, start=start, end=end, value=Decimal(value))
    )


def improvement(user, **fields):
    return Improvement(
        title="Add a second data centre",
        suggested_by=user,
        benefit_metric="Availability",
        benefit_from=Decimal("98.1"),
        benefit_to=Decimal("99.9"),
        benefit_unit="%",
        **fields,
    )


def test_an_improvement_of_an_item_names_its_service_and_needs_no_stream(item, service_owner):
    saved = services.save_improvement(improvement=improvement(service_owner, item=item))
    assert (saved.value_stream_id, saved.service_id) == (None, item.service_id)
    board = selectors.improvement_board(user=service_owner)
    proposed = next(column for column in board if column.status == ImprovementStatus.PROPOSED)
    assert [entry.pk for entry in proposed.items] == [saved.pk]
    # The service's owner decides on it: it concerns their service.
    assert proposed.items[0].can_decide


def test_an_outcome_names_its_service_and_must_be_of_it(service_owner):
    outcome = OutcomeFactory()
    saved = services.save_improvement(improvement=improvement(service_owner, outcome=outcome))
    assert saved.service_id == outcome.subscription.service_id
    with pytest.raises(ValidationError) as refused:
        services.save_improvement(
            improvement=improvement(service_owner, outcome=outcome, service=ServiceFactory())
        )
    assert list(refused.value.message_dict) == ["outcome"]


def test_an_improvement_concerns_something(service_owner, item):
    with pytest.raises(ValidationError) as refused:
        services.save_improvement(improvement=improvement(service_owner))
    assert "Say what the improvement concerns" in refused.value.message_dict["value_stream"][0]
    with pytest.raises(ValidationError) as refused:
        services.save_improvement(
            improvement=improvement(service_owner, item=item, service=ServiceFactory())
        )
    assert list(refused.value.message_dict) == ["item"]


def test_a_done_improvement_takes_its_measures_from_the_items_figures(item, service_owner):
    figure(item, 7, "98.2")
    figure(item, 8, "98.4")  # the last figure before the completion
    figure(item, 9, "99.0")  # spans the completion: neither before nor after
    figure(item, 10, "99.8")  # the first figure after it
    figure(item, 11, "99.9")
    saved = services.save_improvement(improvement=improvement(service_owner, item=item))
    done = services.set_improvement_status(
        improvement=saved,
        status=ImprovementStatus.DONE,
        completed_on=COMPLETED,
        measured_before=Decimal(1),  # typed numbers give way to the figures
        measured_after=Decimal(2),
    )
    done.refresh_from_db()
    assert (done.measured_before, done.measured_after) == (Decimal("98.4"), Decimal("99.8"))
    assert done.measured_from_series and done.completed_on == COMPLETED


def test_without_figures_on_both_sides_the_typed_numbers_stay(item, service_owner):
    figure(item, 8, "98.4")  # nothing after the completion yet
    saved = services.save_improvement(improvement=improvement(service_owner, item=item))
    with pytest.raises(ValidationError) as refused:
        services.set_improvement_status(
            improvement=saved, status=ImprovementStatus.DONE, completed_on=COMPLETED
        )
    assert set(refused.value.message_dict) == {"measured_before", "measured_after"}
    done = services.set_improvement_status(
        improvement=Improvement.objects.get(pk=saved.pk),
        status=ImprovementStatus.DONE,
        measured_before=Decimal("98.0"),
        measured_after=Decimal("99.5"),
    )
    assert (done.measured_before, done.measured_after) == (Decimal("98.0"), Decimal("99.5"))
    assert not done.measured_from_series
    # Moved back from done, it loses its date as its measures.
    done.status = ImprovementStatus.IN_PROGRESS
    done.measured_before = done.measured_after = None
    back = services.save_improvement(improvement=done)
    assert back.completed_on is None


def test_the_browser_form_adds_an_improvement_of_an_item(client, item, portfolio_manager):
    client.force_login(portfolio_manager)
    response = client.post(
        reverse("valuestreams:improvement_add"),
        {
            "item": item.pk,
            "title": "Add a second data centre",
            "benefit_metric": "Availability",
            "benefit_from": "98.1",
            "benefit_to": "99.9",
            "benefit_unit": "%",
            "effort": "large",
            "status": "proposed",
        },
    )
    assert response.status_code == 302
    added = Improvement.objects.get(title="Add a second data centre")
    assert (added.value_stream_id, added.service_id, added.item_id) == (
        None,
        item.service_id,
        item.pk,
    )


def test_an_improvement_of_a_stream_still_works(value_stream_owner):
    stream = ValueStreamFactory(owner=value_stream_owner)
    saved = services.save_improvement(
        improvement=improvement(value_stream_owner, value_stream=stream)
    )
    assert saved.value_stream_id == stream.pk and saved.service_id is None
