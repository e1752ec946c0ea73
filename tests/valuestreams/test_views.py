"""The value-stream pages: the htmx stage editing, what the pages show, and the query counts of
the stage and future-state answers (who may do what, and the lists' and pages' queries, are in
test_view_matrix.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams.models import Improvement
from valuestreams.models import Stage

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def nobody(db):
    """Signed in, without any role."""
    return UserFactory(username="nobody")


@pytest.fixture
def owner(db):
    return UserFactory(username="stream-owner", role="Value-stream owner")


@pytest.fixture
def stream(owner):
    stream = ValueStreamFactory(name="Settle a claim", owner=owner)
    StageFactory(value_stream=stream, name="Report the claim", moment_of_truth=True)
    StageFactory(value_stream=stream, name="Pay the claim")
    return stream


@pytest.fixture
def other_stream(value_stream_owner):
    """Owned by the fixture value_stream_owner: the owner of another object."""
    return ValueStreamFactory(name="Renew a policy", owner=value_stream_owner)


def stage_data(prefix="new", **overrides):
    data = {
        "name": "Assess the damage",
        "responsible_party": "Loss adjuster",
        "process_time": "1.5",
        "process_time_unit": "hours",
        "lead_time": "2",
        "lead_time_unit": "days",
        "complete_accurate": "80",
        "value_class": "value_adding",
    }
    data.update(overrides)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def snapshot(model):
    return lambda: sorted(model.objects.values_list("pk", "updated_at"))


# --- Permissions the view matrix leaves to these tests (see test_view_matrix.py) --------------


@pytest.mark.django_db
def test_a_stage_is_edited_only_through_its_own_stream(client, stream, other_stream, owner):
    foreign = StageFactory(value_stream=other_stream)
    client.force_login(owner)
    url = reverse("valuestreams:stage_edit", args=[stream.slug, foreign.pk])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_suggester_may_withdraw_a_proposal_but_not_decide_it(client, stream, viewer):
    mine = ImprovementFactory(value_stream=stream, suggested_by=viewer)
    client.force_login(viewer)
    page = client.get(reverse("valuestreams:improvement_edit", args=[mine.pk]))
    assert "status" not in page.context["form"].fields
    response = client.post(reverse("valuestreams:improvement_delete", args=[mine.pk]))
    assert response.status_code == 302 and not Improvement.objects.exists()


# --- Stages in place, with htmx ----------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_stage_with_htmx_returns_the_stages_map_and_totals(client, stream, owner):
    client.force_login(owner)
    service = ServiceFactory(name="Claims platform")
    data = stage_data(add_service=service.slug, moment_of_truth="on")
    response = client.post(reverse("valuestreams:stage_add", args=[stream.slug]), data, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('\n<section id="stages"') or body.lstrip().startswith(
        '<section id="stages"'
    )
    assert '<section id="map" class="vsm-map" hx-swap-oob="true"' in body
    assert '<aside id="totals" class="vsm-totals" hx-swap-oob="true"' in body
    assert "<html" not in body
    stage = stream.stages.get(name="Assess the damage")
    assert stage == stream.stages.order_by("position").last() and stage.moment_of_truth
    assert stage.process_time_minutes == 90 and stage.lead_time_minutes == 960
    assert (stage.process_time_unit, stage.lead_time_unit) == ("hours", "days")
    assert list(stage.services.all()) == [service]
    assert ">3. Assess the damage</text>" in body  # drawn on the map
    assert 'data-measure="moments">2<' in body
    assert 'id="id_new-name"' in body and 'value="Assess the damage"' not in body  # a fresh form


@pytest.mark.django_db
def test_the_stage_form_links_by_name_and_unlinks_by_unticking(client, stream, owner):
    client.force_login(owner)
    stage = stream.stages.get(name="Pay the claim")
    kept, dropped = ServiceFactory(name="Payments"), ServiceFactory(name="Ledger")
    application = ApplicationFactory(name="Claims desk")
    stage.services.add(kept, dropped)
    elsewhere = ServiceFactory(name="Not linked anywhere")
    url = reverse("valuestreams:stage_edit", args=[stream.slug, stage.pk])
    form = client.get(url, **HTMX)
    body = form.content.decode()
    # The stage's own links are check boxes; the rest of the portfolio is not listed.
    assert list(form.context["edit_form"]["services"].field.queryset) == [dropped, kept]
    assert elsewhere.name not in body
    assert f'id="id_stage-{stage.pk}-add_service" autocomplete="off"' in body
    assert 'hx-get="/pick/service/"' in body and 'hx-get="/pick/application/"' in body
    data = stage_data(
        f"stage-{stage.pk}",
        services=[kept.pk],
        add_service="not linked ANYWHERE",
        add_application=application.name,
    )
    response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert set(stage.services.all()) == {kept, elsewhere}
    assert list(stage.applications.all()) == [application]


@pytest.mark.django_db
def test_the_stage_form_sets_each_service_link_weight_and_refuses_a_negative_one(
    client, stream, owner
):
    client.force_login(owner)
    stage = stream.stages.get(name="Pay the claim")
    payments = ServiceFactory(name="Payments")
    stage.services.add(payments)
    url = reverse("valuestreams:stage_edit", args=[stream.slug, stage.pk])
    prefix = f"stage-{stage.pk}"
    body = client.get(url, **HTMX).content.decode()
    assert "Weight of Payments" in body
    weight = f"{prefix}-weight_{payments.pk}"
    data = {**stage_data(prefix, services=[payments.pk]), weight: "-2"}
    refused = client.post(url, data, **HTMX)
    assert refused.status_code == 422
    assert "A weight cannot be negative" in refused.content.decode()
    data[weight] = "0.5"
    assert client.post(url, data, **HTMX).status_code == 200
    assert stage.service_links.get().weight == Decimal("0.5")


@pytest.mark.django_db
def test_the_stage_form_refuses_a_retired_service_or_an_unknown_slug(client, stream, owner):
    client.force_login(owner)
    stage = stream.stages.get(name="Pay the claim")
    retired = ServiceFactory(name="Old payments", lifecycle="retired")
    url = reverse("valuestreams:stage_edit", args=[stream.slug, stage.pk])
    response = client.post(url, stage_data(f"stage-{stage.pk}", add_service=retired.slug), **HTMX)
    assert response.status_code == 422
    assert "This service is retired: it underpins no new stage." in response.content.decode()
    assert not stage.services.exists()
    response = client.post(url, stage_data(f"stage-{stage.pk}", add_service="no-such"), **HTMX)
    assert response.status_code == 422
    assert "No service named “no-such”" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["120", "-5"])
def test_a_bad_complete_accurate_shows_an_error_beside_the_field_and_saves_nothing(
    client, stream, owner, value
):
    client.force_login(owner)
    before = snapshot(Stage)()
    url = reverse("valuestreams:stage_add", args=[stream.slug])
    response = client.post(url, stage_data(complete_accurate=value), **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_new-complete_accurate_error"' in body
    assert "%C&amp;A is a percentage from 0 to 100" in body
    assert "hx-swap-oob" not in body
    assert snapshot(Stage)() == before
    # Without JavaScript: the whole page, with the form and its error.
    response = client.post(url, stage_data(complete_accurate=value))
    assert response.status_code == 422 and b"<html" in response.content
    assert b'id="id_new-complete_accurate_error"' in response.content


@pytest.mark.django_db
def test_a_stage_name_must_start_with_a_verb(client, stream, owner):
    client.force_login(owner)
    url = reverse("valuestreams:stage_add", args=[stream.slug])
    response = client.post(url, stage_data(name="The damage assessment"), **HTMX)
    assert response.status_code == 422
    assert b'id="id_new-name_error"' in response.content
    assert "instead of “The”" in response.content.decode()


@pytest.mark.django_db
def test_process_time_longer_than_lead_time_is_an_error_beside_process_time(client, stream, owner):
    client.force_login(owner)
    url = reverse("valuestreams:stage_add", args=[stream.slug])
    data = stage_data(process_time="3", process_time_unit="days", lead_time="1")
    response = client.post(url, data, **HTMX)
    assert response.status_code == 422
    assert b'id="id_new-process_time_error"' in response.content


@pytest.mark.django_db
def test_editing_a_stage_in_place_keeps_its_units(client, stream, owner):
    client.force_login(owner)
    stage = stream.stages.get(name="Pay the claim")
    stage.process_time_minutes, stage.process_time_unit = Decimal(90), "hours"
    stage.save()
    url = reverse("valuestreams:stage_edit", args=[stream.slug, stage.pk])
    form = client.get(url, **HTMX)
    assert form.status_code == 200
    assert f'id="id_stage-{stage.pk}-process_time"' in form.content.decode()
    assert form.context["edit_form"]["process_time"].value() == Decimal("1.5")
    stage.process_time_minutes, stage.process_time_unit = Decimal(10), "minutes"
    stage.save()
    shown = client.get(url, **HTMX).content.decode()
    assert f'name="stage-{stage.pk}-process_time" value="10"' in shown  # not 1E+1
    stage.process_time_minutes, stage.process_time_unit = Decimal(90), "hours"
    stage.save()
    response = client.post(
        url, stage_data(f"stage-{stage.pk}", name="Pay the claimant", lead_time="3"), **HTMX
    )
    assert response.status_code == 200 and b"hx-swap-oob" in response.content
    stage.refresh_from_db()
    assert stage.name == "Pay the claimant" and stage.lead_time_minutes == 1440


@pytest.mark.django_db
def test_reordering_and_removing_stages_with_htmx(client, stream, owner):
    client.force_login(owner)
    pay = stream.stages.get(name="Pay the claim")
    response = client.post(reverse("valuestreams:stage_up", args=[stream.slug, pay.pk]), **HTMX)
    assert response.status_code == 200
    assert list(stream.stages.order_by("position").values_list("name", flat=True)) == [
        "Pay the claim",
        "Report the claim",
    ]
    assert ">1. Pay the claim</text>" in response.content.decode()
    response = client.post(reverse("valuestreams:stage_remove", args=[stream.slug, pay.pk]), **HTMX)
    assert response.status_code == 200
    assert list(stream.stages.values_list("name", flat=True)) == ["Report the claim"]


@pytest.mark.django_db
def test_map_downloads_as_a_standalone_svg(client, stream, viewer):
    client.force_login(viewer)
    response = client.get(reverse("valuestreams:valuestream_map_svg", args=[stream.slug]))
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="settle-a-claim-map.svg"'
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert 'xmlns="http://www.w3.org/2000/svg"' in body
    assert "Report the claim" in body and ">MoT</text>" in body
    import xml.dom.minidom

    xml.dom.minidom.parseString(response.content)  # well-formed


@pytest.mark.django_db
def test_future_state_page_shows_both_maps_and_the_differences(client, stream, owner):
    from valuestreams import services

    future = services.create_future_state(current=stream)
    future.stages.get(name="Pay the claim").delete()
    client.force_login(owner)
    response = client.get(future.get_absolute_url())
    body = response.content.decode()
    assert f'id="map-svg-{stream.pk}"' in body and f'id="map-svg-{future.pk}"' in body
    assert "Against the current state" in body
    rows = {row.label: row for row in response.context["differences"]}
    assert rows["Stages"].change == -1


@pytest.mark.django_db
def test_improvement_board_moves_an_item_with_htmx_and_asks_for_measures_when_done(
    client, stream, owner
):
    item = ImprovementFactory(value_stream=stream)
    client.force_login(owner)
    url = reverse("valuestreams:improvement_status", args=[item.pk])
    response = client.post(url, {"status": "done"}, **HTMX)
    assert response.status_code == 422
    assert "A done improvement records the measured result here." in response.content.decode()
    item.refresh_from_db()
    assert item.status == "proposed"
    response = client.post(
        url, {"status": "done", "measured_before": "5", "measured_after": "2.5"}, **HTMX
    )
    assert response.status_code == 200 and b'id="board"' in response.content
    item.refresh_from_db()
    assert item.status == "done" and item.measured_after == Decimal("2.5")


# --- Query counts of answers other than the lists and pages (those are in test_view_matrix.py)


@pytest.mark.django_db
def test_stage_edit_response_query_count_does_not_grow_with_stages(
    client, stream, owner, django_assert_max_num_queries
):
    client.force_login(owner)
    for stage in stream.stages.all():  # with services, so the costs are looked up from the start
        stage.services.add(ServiceFactory())
    stage = stream.stages.order_by("position").last()
    url = reverse("valuestreams:stage_edit", args=[stream.slug, stage.pk])
    with django_assert_max_num_queries(40) as few:
        response = client.post(url, stage_data(f"stage-{stage.pk}"), **HTMX)
    assert response.status_code == 200
    for _ in range(20):
        StageFactory(value_stream=stream, services=[ServiceFactory()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.post(url, stage_data(f"stage-{stage.pk}"), **HTMX)
    assert response.status_code == 200


@pytest.mark.django_db
def test_future_state_page_query_count_does_not_grow_with_stages(
    client, stream, owner, django_assert_max_num_queries
):
    from valuestreams import services as vs

    for stage in stream.stages.all():  # with services, so the costs are looked up from the start
        stage.services.add(ServiceFactory())
    future = vs.create_future_state(current=stream)
    client.force_login(owner)
    with django_assert_max_num_queries(35) as few:
        client.get(future.get_absolute_url())
    for _ in range(15):
        StageFactory(value_stream=stream, services=[ServiceFactory()])
        StageFactory(value_stream=future, services=[ServiceFactory()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(future.get_absolute_url())


@pytest.mark.django_db
def test_the_add_stage_form_opens_in_place_or_on_the_page(client, stream, owner):
    client.force_login(owner)
    page = client.get(stream.get_absolute_url()).content.decode()
    assert 'id="add-stage-button"' in page and 'id="id_new-name"' not in page
    url = reverse("valuestreams:stage_add", args=[stream.slug])
    partial = client.get(url, **HTMX)
    assert partial.status_code == 200 and b"<html" not in partial.content
    assert b'id="id_new-name"' in partial.content and b"hx-swap-oob" not in partial.content
    whole = client.get(url)
    assert whole.status_code == 200 and b"<html" in whole.content
    assert b'id="id_new-name"' in whole.content


@pytest.mark.django_db
def test_the_board_shows_every_improvement_to_anyone_signed_in(client, stream, nobody):
    ImprovementFactory(value_stream=stream, title="Pay claims instantly")
    client.force_login(nobody)
    response = client.get(reverse("valuestreams:improvement_board"))
    assert response.status_code == 200
    assert "Pay claims instantly" in response.content.decode()
    assert "Suggest an improvement" not in response.content.decode()  # no role: cannot suggest
    assert 'action="/value-streams/improvements/' not in response.content.decode()


@pytest.mark.django_db
def test_value_stream_list_filters_and_exports_what_it_shows(client, stream, owner, viewer):
    retired = ValueStreamFactory(name="Sell by post", owner=owner)
    retired.retired_at = retired.created_at
    retired.save()
    client.force_login(viewer)
    url = reverse("valuestreams:valuestream_list")
    names = [row.record.name for row in client.get(url).context["table"].rows]
    assert names == ["Sell by post", "Settle a claim"]
    active = client.get(url, {"status": "active"}).context["table"].rows
    assert [row.record.name for row in active] == ["Settle a claim"]
    lines = client.get(url, {"status": "active", "export": "csv"}).content.decode().splitlines()
    assert lines[0].startswith("Name,State,Experience,Owner,Serves,Stages,Lead time")
    # Two stages of 2 hours' lead time and 30 minutes' work each, 90 % complete and accurate;
    # no cost computed yet.
    assert lines[0].endswith(",Moments of Truth,Cost")
    assert lines[1].endswith(",2,4 h,1 h,25%,81%,1,")


@pytest.mark.django_db
def test_the_stream_page_lists_its_open_improvements_highest_priority_first(client, stream, viewer):
    from valuestreams.choices import Effort
    from valuestreams.choices import ImprovementStatus

    # Priorities: 60 ÷ 1 = 60, 60 ÷ 2 = 30, 60 ÷ 5 = 12; done and rejected ones are not open.
    ImprovementFactory(value_stream=stream, title="Medium", effort=Effort.MEDIUM)
    ImprovementFactory(
        value_stream=stream,
        title="Small",
        effort=Effort.SMALL,
        status=ImprovementStatus.ACCEPTED,
    )
    ImprovementFactory(
        value_stream=stream,
        title="Very large",
        effort=Effort.VERY_LARGE,
        status=ImprovementStatus.IN_PROGRESS,
    )
    ImprovementFactory(
        value_stream=stream,
        title="Finished",
        status=ImprovementStatus.DONE,
        measured_before=Decimal(5),
        measured_after=Decimal(3),
    )
    ImprovementFactory(value_stream=stream, title="Refused", status=ImprovementStatus.REJECTED)
    ImprovementFactory(title="Another stream's")
    client.force_login(viewer)
    response = client.get(stream.get_absolute_url())
    listed = response.context["open_improvements"]
    assert [(i.title, i.priority) for i in listed] == [
        ("Small", 60),
        ("Medium", 30),
        ("Very large", 12),
    ]
    body = response.content.decode()
    assert body.index(">Small<") < body.index(">Medium<") < body.index(">Very large<")
    assert ">Finished<" not in body and ">Refused<" not in body


def test_text_areas_are_three_lines_high_unless_a_field_asks_for_more(client, stream, owner):
    client.force_login(owner)
    form = client.get(reverse("valuestreams:process_add")).context["form"]
    assert form.fields["activities_text"].widget.attrs["rows"] == 5
    assert form.fields["description"].widget.attrs["rows"] == 3
