"""Figures of an outcome measured directly, in the browser: its page shows the series,
figures are added and removed in place (the views of an item's page), and its status set by
hand shows with its reason. And figures imported from a CSV file in the browser, through the
import command's function: one batch, all or nothing, errors by line and column."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from performance.models import Measurement
from portfolio import services as portfolio_services
from tests.performance.helpers import MEASURE
from tests.performance.helpers import figure
from tests.performance.helpers import functioning_item
from tests.performance.helpers import new_service
from tests.performance.helpers import outcome_of

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def outcome(service_owner):
    return outcome_of(new_service(owner=service_owner), **{**MEASURE, "target": Decimal(95)})


@pytest.mark.django_db
def test_outcome_figure_is_added_in_place_judged_and_removed(client, service_owner, outcome):
    client.force_login(service_owner)
    add = reverse("performance:outcome_figure_add", args=[outcome.pk])
    opened = client.get(add, **HTMX)
    assert opened.status_code == 200
    assert 'aria-label="New figure"' in opened.content.decode()

    refused = client.post(add, {"start": "2026-10-31", "end": "2026-10-01", "value": "96"}, **HTMX)
    assert refused.status_code == 422
    assert "The end cannot be before the start." in refused.content.decode()
    assert not Measurement.objects.exists()

    data = {"start": "2026-10-01", "end": "2026-10-31", "value": "93.5", "note": "Backlog"}
    answer = client.post(add, data, **HTMX)
    assert answer.status_code == 200
    added = Measurement.objects.get()
    assert (added.outcome_id, added.item_id, added.met, added.recorded_by) == (
        outcome.pk,
        None,
        False,
        service_owner,
    )
    section = answer.content.decode()
    assert section.lstrip().startswith('<section id="figures"')  # the section alone
    assert "Backlog" in section and "Missed" in section
    outcome.refresh_from_db()
    assert (outcome.measured_until, outcome.measured_met) == (datetime.date(2026, 10, 31), False)

    remove = reverse("performance:outcome_figure_remove", args=[outcome.pk, added.pk])
    assert (
        client.post(remove)
        .headers["Location"]
        .endswith(reverse("performance:outcome_series", args=[outcome.pk]) + "#figures")
    )
    assert not Measurement.objects.exists()
    outcome.refresh_from_db()
    assert outcome.measured_until is None


@pytest.mark.django_db
def test_a_figure_of_another_outcome_is_not_removed_through_this_one(
    client, service_owner, outcome
):
    other = outcome_of(outcome.subscription.service, **MEASURE)
    theirs = figure(outcome=other, end=datetime.date(2026, 10, 31), value="99")
    client.force_login(service_owner)
    remove = reverse("performance:outcome_figure_remove", args=[outcome.pk, theirs.pk])
    assert client.post(remove).status_code == 404
    assert Measurement.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_outcome_page_shows_series_and_status_set_by_hand(client, service_owner, outcome):
    figure(outcome=outcome, end=datetime.date(2026, 9, 30), value="97")
    figure(outcome=outcome, end=datetime.date(2026, 10, 31), value="90")
    client.force_login(service_owner)
    page = reverse("performance:outcome_series", args=[outcome.pk])
    content = client.get(page).content.decode()
    assert content.count('class="badge bad">missed') == 2  # October by month, and its figure
    assert content.count('class="badge ok">met') == 2
    customer = outcome.subscription.customer
    assert page in client.get(customer.get_absolute_url()).content.decode()

    # The status is set by hand on the customer page's outcome form, with a reason.
    edit = reverse("portfolio:outcome_edit", args=[customer.slug, outcome.pk])
    form = {
        "statement": outcome.statement,
        **{name: MEASURE[name] for name in ("metric", "comparator", "unit", "window")},
        "target": "95",
        "agreement": outcome.agreement,
        "status_override": "met",
        "override_reason": "",
    }
    refused = client.post(edit, form)
    assert refused.status_code == 422
    assert "Say why the status is set by hand" in refused.content.decode()
    client.post(edit, {**form, "override_reason": "Agreed at the October review"})
    content = client.get(page).content.decode()
    assert "set by hand: Agreed at the October review" in content


# --- Import in the browser ------------------------------------------------------------------

GOOD = """external_id,item,start,end,value,note
fig-1,avail,2026-09-01,2026-09-30,99.8,September
fig-2,avail,2026-10-01,2026-10-31,99.1,October outage
"""


@pytest.fixture
def item(service_owner):
    item = functioning_item(new_service(owner=service_owner))
    item.source, item.external_id = "monitoring", "avail"
    return portfolio_services.save_specification_item(item=item)


def upload(client, text: str, source="monitoring"):
    csv = SimpleUploadedFile("figures.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post(reverse("performance:measurement_import"), {"file": csv, "source": source})


@pytest.mark.django_db
def test_csv_upload_writes_the_figures_as_one_batch(client, service_owner, item):
    client.force_login(service_owner)
    answer = upload(client, GOOD)
    assert answer.status_code == 302
    figures = list(Measurement.objects.order_by("end").values_list("external_id", "source", "met"))
    assert figures == [("fig-1", "monitoring", True), ("fig-2", "monitoring", False)]
    followed = client.get(answer.headers["Location"]).content.decode()
    assert "Figures imported: 2 created, 0 updated, 0 unchanged." in followed
    # The same file again changes nothing.
    upload(client, GOOD)
    assert Measurement.objects.count() == 2


@pytest.mark.django_db
def test_csv_upload_refuses_the_whole_file_naming_line_and_column(client, service_owner, item):
    client.force_login(service_owner)
    bad = GOOD + "fig-3,avail,2026-11-30,2026-11-01,99.9,\nfig-4,avail,2026-12-01,2026-12-31,x,\n"
    answer = upload(client, bad)
    assert answer.status_code == 422
    content = answer.content.decode()
    assert "line 4, end: The end cannot be before the start." in content
    assert "line 5, value" in content
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_csv_upload_refuses_a_file_that_is_not_text(client, service_owner, item):
    client.force_login(service_owner)
    csv = SimpleUploadedFile("figures.csv", b"\xff\xfe\x00bad", content_type="text/csv")
    answer = client.post(reverse("performance:measurement_import"), {"file": csv, "source": "m"})
    assert answer.status_code == 422
    assert "The file is not UTF-8 text." in answer.content.decode()
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_csv_upload_needs_the_right_to_write_figures(client, viewer, item):
    client.force_login(viewer)
    assert client.get(reverse("performance:measurement_import")).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert not Measurement.objects.exists()
