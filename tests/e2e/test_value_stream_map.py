"""The value stream page in Chromium: stages edited in place, the map and totals following."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams.models import Stage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def stream():
    owner = UserFactory(username="browser-vso", role="Value-stream owner")
    stream = ValueStreamFactory(name="Settle a claim", slug="settle-a-claim", owner=owner)
    StageFactory(
        value_stream=stream,
        position=0,
        name="Report the claim",
        process_time_minutes=Decimal(20),
        lead_time_minutes=Decimal(60),
        complete_accurate=Decimal(80),
        moment_of_truth=True,
    )
    StageFactory(
        value_stream=stream,
        position=1,
        name="Pay the claim",
        process_time_minutes=Decimal(10),
        lead_time_minutes=Decimal(960),
        complete_accurate=Decimal(100),
    )
    return stream


def open_stream(page, live_server, login, stream):
    login(stream.owner.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{stream.get_absolute_url()}")
    # Set on the loaded document: a reload would lose it.
    page.evaluate("window.portico_test_no_reload = true")
    return page


def still_same_document(page) -> bool:
    return page.evaluate("window.portico_test_no_reload === true")


def map_texts(page) -> list[str]:
    return page.locator("#map svg text").all_text_contents()


def test_add_a_stage_then_reorder_it_and_see_totals_and_map_change(
    page, live_server, login, stream
):
    open_stream(page, live_server, login, stream)
    totals = page.locator("#totals")
    expect(totals.locator('[data-measure="stages"]')).to_have_text("2")
    expect(totals.locator('[data-measure="lead-time"]')).to_have_text("2.1 d")
    assert "2. Pay the claim" in map_texts(page)

    page.get_by_role("button", name="Add a stage").click()
    form = page.get_by_role("form", name="Add a stage")
    form.locator("#id_new-name").fill("Assess the damage")
    form.locator("#id_new-responsible_party").fill("Loss adjuster")
    form.locator("#id_new-process_time").fill("1.5")
    form.locator("#id_new-process_time_unit").select_option("hours")
    form.locator("#id_new-lead_time").fill("2")
    form.locator("#id_new-lead_time_unit").select_option("days")
    form.locator("#id_new-complete_accurate").fill("50")
    form.get_by_role("button", name="Add stage").click()

    # Totals: 60 + 960 + 960 minutes of lead time; rolled %C&A 0.8 × 1 × 0.5.
    expect(totals.locator('[data-measure="stages"]')).to_have_text("3")
    expect(totals.locator('[data-measure="lead-time"]')).to_have_text("4.1 d")
    expect(totals.locator('[data-measure="rolled-ca"]')).to_have_text("40%")
    expect(page.locator("#map svg text", has_text="3. Assess the damage")).to_have_count(1)
    expect(page.locator("#stages li .stage-name")).to_have_text(
        ["Report the claim", "Pay the claim", "Assess the damage"]
    )
    # The form is empty again, ready for the next stage.
    expect(page.locator("#id_new-name")).to_have_value("")

    page.get_by_role("button", name="Actions for Assess the damage").click()
    page.get_by_role("button", name="Move Assess the damage earlier").click()

    expect(page.locator("#stages li .stage-name")).to_have_text(
        ["Report the claim", "Assess the damage", "Pay the claim"]
    )
    expect(page.locator("#map svg text", has_text="2. Assess the damage")).to_have_count(1)
    expect(page.locator("#map svg text", has_text="3. Pay the claim")).to_have_count(1)
    assert still_same_document(page)
    assert list(stream.stages.order_by("position").values_list("name", flat=True)) == [
        "Report the claim",
        "Assess the damage",
        "Pay the claim",
    ]


@pytest.mark.parametrize("value", ["120", "-1"])
def test_a_bad_complete_accurate_shows_an_error_beside_the_field_and_saves_nothing(
    page, live_server, login, stream, value
):
    open_stream(page, live_server, login, stream)
    page.get_by_role("button", name="Add a stage").click()
    form = page.get_by_role("form", name="Add a stage")
    form.locator("#id_new-name").fill("Assess the damage")
    form.locator("#id_new-process_time").fill("1")
    form.locator("#id_new-lead_time").fill("2")
    form.locator("#id_new-complete_accurate").fill(value)
    form.get_by_role("button", name="Add stage").click()

    error = page.locator("#id_new-complete_accurate_error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("%C&A is a percentage from 0 to 100")
    # Beside the field: in the same label as the input.
    label = page.locator("label[for='id_new-complete_accurate']")
    expect(label.locator("#id_new-complete_accurate")).to_have_value(value)
    expect(label.locator("#id_new-complete_accurate_error")).to_have_count(1)
    expect(page.locator('#totals [data-measure="stages"]')).to_have_text("2")
    assert still_same_document(page)
    assert Stage.objects.filter(value_stream=stream).count() == 2


def test_edit_a_stage_in_place_and_remove_another(page, live_server, login, stream):
    open_stream(page, live_server, login, stream)
    page.get_by_role("button", name="Actions for Pay the claim").click()
    page.get_by_role("link", name="Edit Pay the claim").click()
    form = page.get_by_role("form", name="Edit stage Pay the claim")
    # 960 minutes, entered in hours (the factory's unit): shown as entered.
    expect(form.locator("[name$='-lead_time']")).to_have_value("16")
    form.locator("[name$='-name']").fill("Pay the claimant")
    form.locator("[name$='-moment_of_truth']").check()
    form.get_by_role("button", name="Save stage").click()
    expect(page.locator('#totals [data-measure="moments"]')).to_have_text("2")
    expect(page.locator("#map svg text", has_text="2. Pay the claimant")).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Actions for Report the claim").click()
    page.get_by_role("button", name="Remove Report the claim").click()
    expect(page.locator('#totals [data-measure="stages"]')).to_have_text("1")
    expect(page.locator("#map svg text", has_text="1. Pay the claimant")).to_have_count(1)
    assert still_same_document(page)


def test_download_the_map_as_svg_and_png(page, live_server, login, stream):
    open_stream(page, live_server, login, stream)
    with page.expect_download() as svg_download:
        page.get_by_role("link", name="Download SVG").click()
    assert svg_download.value.suggested_filename == "settle-a-claim-map.svg"
    with open(svg_download.value.path(), "rb") as svg:
        assert b"<svg" in svg.read()

    png_button = page.get_by_role("button", name="Download PNG")
    expect(png_button).to_be_visible()
    with page.expect_download() as png_download:
        png_button.click()
    assert re.fullmatch(r"settle-a-claim-map\.png", png_download.value.suggested_filename)
    with open(png_download.value.path(), "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def test_link_a_service_to_a_stage_by_typing_its_name_and_unlink_it_by_unticking(
    page, live_server, login, stream
):
    from tests.factories.portfolio import ServiceFactory

    ServiceFactory(name="Payments platform", slug="payments-platform")
    ServiceFactory(name="Claims intake", slug="claims-intake")
    pay = stream.stages.get(name="Pay the claim")
    open_stream(page, live_server, login, stream)

    page.get_by_role("button", name="Actions for Pay the claim").click()
    page.get_by_role("link", name="Edit Pay the claim").click()
    form = page.get_by_role("form", name="Edit stage Pay the claim")
    box = form.get_by_label("Add a service that underpins it")
    box.press_sequentially("payments", delay=20)
    # The suggestions arrive under the box, filled by htmx as the user types.
    options = form.locator(".picker-options [role=option]")
    expect(options).to_have_count(1)
    expect(options).to_have_attribute("data-pick-key", "payments-platform")
    options.click()
    expect(box).to_have_value("Payments platform")
    form.get_by_role("button", name="Save stage").click()

    row = page.locator(f"#stage-{pay.pk}")
    expect(row).to_contain_text("Services: Payments platform")
    assert [s.name for s in pay.services.all()] == ["Payments platform"]

    page.get_by_role("button", name="Actions for Pay the claim").click()
    page.get_by_role("link", name="Edit Pay the claim").click()
    form = page.get_by_role("form", name="Edit stage Pay the claim")
    linked = form.get_by_role("checkbox", name="Payments platform")
    expect(linked).to_be_checked()
    linked.uncheck()
    form.get_by_role("button", name="Save stage").click()

    expect(row).to_contain_text("Services: none")
    assert not pay.services.exists()
    assert still_same_document(page)
