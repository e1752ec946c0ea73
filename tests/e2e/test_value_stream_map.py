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
        head = png.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    # Twice the drawn size, whatever the zoom on the page: the map as the SVG file draws it.
    svg = page.locator("#map svg.vsm")
    drawn = int(svg.get_attribute("width")), int(svg.get_attribute("height"))
    assert (int.from_bytes(head[16:20]), int.from_bytes(head[20:24])) == (
        2 * drawn[0],
        2 * drawn[1],
    )


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


# --- Fit, zoom, pan, full screen; labels that fit; the future state below ---------------------

WIDTHS = [1440, 390]

MAP_GEOMETRY = """(figure) => {
    const viewport = figure.querySelector("[data-map-viewport]");
    const svg = viewport.querySelector("svg");
    return {
        viewport: viewport.clientWidth,
        scrollWidth: viewport.scrollWidth,
        scrollLeft: viewport.scrollLeft,
        shown: svg.getBoundingClientRect().width,
        drawn: Number(svg.getAttribute("width")),
        zoom: viewport.dataset.zoom || "",
    };
}"""

# Each pair of boxes (in the SVG's own units) that overlap: a Totals label and its value, or
# any two texts of the Totals box; and each stage's texts outside the stage's box.
MAP_CLASHES = """(svg) => {
    const box = (e) => e.getBBox();
    const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width
        && a.y < b.y + b.height && b.y < a.y + a.height;
    const clashes = [];
    const totals = [...svg.querySelectorAll(".vsm-totals text")];
    totals.forEach((a, i) => totals.slice(i + 1).forEach((b) => {
        if (overlap(box(a), box(b))) clashes.push(a.textContent + " / " + b.textContent);
    }));
    const frame = box(svg.querySelector(".vsm-totals rect"));
    totals.forEach((t) => {
        const b = box(t);
        if (b.x < frame.x || b.x + b.width > frame.x + frame.width
            || b.y + b.height > frame.y + frame.height)
            clashes.push(t.textContent + " outside the Totals box");
    });
    svg.querySelectorAll(".vsm-stage").forEach((stage) => {
        const rect = box(stage.querySelector("rect"));
        stage.querySelectorAll("text").forEach((t) => {
            const b = box(t);
            if (b.y > rect.y + rect.height) return;  // the services and times, below the box
            if (b.x < rect.x || b.x + b.width > rect.x + rect.width
                || b.y + b.height > rect.y + rect.height)
                clashes.push(t.textContent + " outside its stage");
        });
    });
    return clashes;
}"""


@pytest.fixture
def costed_stream(stream):
    """The stream with a long stage name and a large cost on its first stage's service, so
    its Totals box shows a cost row as wide as they come."""
    from finance import services as finance_services
    from tests.factories.finance import CostItemFactory
    from tests.factories.finance import PeriodFactory
    from tests.factories.portfolio import ServiceFactory

    march = PeriodFactory(year=2025, month=3)
    platform = ServiceFactory(name="Claims platform of the commercial lines in Europe")
    CostItemFactory(period=march, service=platform, amount=Decimal("98765432109.87"))
    first = stream.stages.get(position=0)
    first.name = (
        "Report the claim with photos, the police report, the other driver's details and "
        "every document the policy asks for"
    )
    first.save()
    first.services.add(platform)
    finance_services.recompute_tco(period=march)
    return stream


@pytest.mark.parametrize("width", WIDTHS)
def test_the_map_fits_zooms_pans_and_goes_full_screen(
    page, live_server, login, costed_stream, width
):
    page.set_viewport_size({"width": width, "height": 900})
    open_stream(page, live_server, login, costed_stream)
    figure = page.locator("#map [data-map]")
    tools = figure.get_by_role("toolbar")
    expect(tools).to_be_visible()
    start = figure.evaluate(MAP_GEOMETRY)
    if width == 1440:
        # Fitted to the width: readable at this size.
        assert start["zoom"] == "fit" and abs(start["shown"] - start["viewport"]) <= 1
        assert start["shown"] / start["drawn"] >= 0.75
    else:
        # Fitted, it would be too small to read: it opens at the smallest readable zoom.
        assert start["zoom"] == "0.750" and start["scrollWidth"] > start["viewport"]
        assert abs(start["shown"] - 0.75 * start["drawn"]) <= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    tools.get_by_role("button", name="Fit").click()
    fitted = figure.evaluate(MAP_GEOMETRY)
    assert abs(fitted["shown"] - fitted["viewport"]) <= 1 and fitted["zoom"] == "fit"
    tools.get_by_role("button", name="Zoom in").click()
    tools.get_by_role("button", name="Zoom in").click()
    zoomed = figure.evaluate(MAP_GEOMETRY)
    assert zoomed["shown"] > fitted["shown"] * 1.2
    assert zoomed["scrollWidth"] > zoomed["viewport"]

    # Dragged with the mouse, the map moves.
    viewport = figure.locator("[data-map-viewport]")
    viewport.evaluate("(v) => { v.scrollLeft = 0; }")
    viewport.scroll_into_view_if_needed()
    area = viewport.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.8, area["y"] + 40)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + 40, steps=5)
    page.mouse.up()
    assert figure.evaluate(MAP_GEOMETRY)["scrollLeft"] > 0

    # The keys of the buttons, in the map's box.
    viewport.focus()
    before = figure.evaluate(MAP_GEOMETRY)["shown"]
    page.keyboard.press("-")
    assert figure.evaluate(MAP_GEOMETRY)["shown"] < before
    page.keyboard.press("+")
    assert abs(figure.evaluate(MAP_GEOMETRY)["shown"] - before) <= 2
    page.keyboard.press("0")
    assert figure.evaluate(MAP_GEOMETRY)["zoom"] == "fit"

    tools.get_by_role("button", name="Full screen").click()
    page.wait_for_function("document.fullscreenElement !== null")
    assert figure.evaluate("(f) => document.fullscreenElement === f")
    tools.get_by_role("button", name="Leave full screen").click()
    page.wait_for_function("document.fullscreenElement === null")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_label_of_the_map_leaves_its_box_or_overprints_another(
    page, live_server, login, costed_stream, width
):
    page.set_viewport_size({"width": width, "height": 900})
    open_stream(page, live_server, login, costed_stream)
    svg = page.locator("#map svg.vsm")
    expect(svg.locator(".vsm-totals text[data-total='6']")).to_have_text("98,765,432,109.87 EUR")
    assert svg.evaluate(MAP_CLASHES) == []
    # The long stage name wraps; what its four lines cannot hold is in its tooltip.
    first = costed_stream.stages.get(position=0)
    expect(svg.locator(".vsm-cut > title").first).to_have_text(f"1. {first.name}")

    # The same in the SVG file downloaded, drawn on its own.
    answer = page.request.get(f"{live_server.url}/value-streams/{costed_stream.slug}/map.svg")
    assert answer.ok
    page.set_content(answer.text())
    assert page.locator("svg.vsm").evaluate(MAP_CLASHES) == []


def test_the_future_state_comes_below_the_current_one_as_wide(page, live_server, login):
    owner = UserFactory(username="browser-vso", role="Value-stream owner")
    future = ValueStreamFactory(name="Settle a claim (future)", owner=owner, future=True)
    for stream in (future.current_state, future):
        for position in range(5):
            StageFactory(value_stream=stream, position=position, name=f"Stage {position + 1}")
    page.set_viewport_size({"width": 1440, "height": 900})
    open_stream(page, live_server, login, future)
    figures = page.locator("#map [data-map]")
    expect(figures).to_have_count(2)
    current, planned = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
    assert planned["y"] >= current["y"] + current["height"]
    assert abs(planned["x"] - current["x"]) <= 1 and abs(planned["width"] - current["width"]) <= 1
    for index in range(2):
        # Each as wide as the page allows: fitted to the width, not half of it.
        geometry = figures.nth(index).evaluate(MAP_GEOMETRY)
        assert geometry["zoom"] == "fit" and abs(geometry["shown"] - geometry["viewport"]) <= 1
        assert geometry["viewport"] >= 1100
    expect(figures.nth(0)).to_contain_text("Current state:")
    expect(figures.nth(1)).to_contain_text("Future state: Settle a claim (future)")


def test_without_javascript_the_map_is_fitted_to_the_width(browser, live_server, stream):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 900}, locale="en-GB"
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(stream.owner.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}{stream.get_absolute_url()}")
        figure = page.locator("#map [data-map]")
        expect(figure.get_by_role("toolbar", include_hidden=True)).to_be_hidden()
        viewport = figure.locator("[data-map-viewport]").bounding_box()
        shown = figure.locator("svg").bounding_box()
        assert abs(shown["width"] - (viewport["width"] - 2)) <= 1  # inside its border
        assert page.get_by_role("link", name="Download SVG").is_visible()
    finally:
        context.close()
