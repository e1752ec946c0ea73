"""The front end in one place: no inline style, script or event handler in any template or in
the markup Python writes (the Content-Security-Policy refuses them), the policy and the
Permissions-Policy on pages and API answers, help texts and errors tied to their fields."""

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import maps
from valuestreams import selectors

BASE = Path(settings.BASE_DIR)
TEMPLATE_FILES = sorted(
    path
    for folder in (BASE / "templates", *BASE.glob("*/templates"))
    for path in folder.rglob("*")
    if path.is_file() and path.suffix in (".html", ".txt", ".svg", ".xml")
)
# Python that writes markup: template tags, table columns, the flow chart and the map.
MARKUP_WRITERS = sorted(
    {
        *BASE.glob("*/templatetags/*.py"),
        *BASE.glob("*/tables.py"),
        BASE / "finance" / "charts.py",
        BASE / "valuestreams" / "maps.py",
    }
)

# What the policy refuses, as it would appear in markup.
INLINE = {
    "a style attribute": re.compile(r"(?<![\w:-])style\s*=", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "an inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "an event-handler attribute": re.compile(r"(?<![\w:.-])on[a-z]{3,}\s*=\s*[\"'{]", re.I),
    "a javascript: address": re.compile(r"javascript:", re.I),
    "code htmx would evaluate": re.compile(r"hx-on\b|hx-vars\b|[\"']js:", re.I),
}


def inline_findings(text: str) -> list[str]:
    return [
        f"{what} at line {text.count(chr(10), 0, match.start()) + 1}"
        for what, pattern in INLINE.items()
        for match in pattern.finditer(text)
    ]


def test_the_scan_finds_what_the_policy_refuses():
    """The patterns below would let nothing through: each catches its kind."""
    assert inline_findings('<div style="width:3%">') == ["a style attribute at line 1"]
    assert inline_findings("<style>p{}</style>") == ["a <style> element at line 1"]
    assert inline_findings("<script>go()</script>") == ["an inline <script> at line 1"]
    assert inline_findings('<select onchange="this.form.submit()">') == [
        "an event-handler attribute at line 1"
    ]
    assert inline_findings("<a href='javascript:void(0)'>") == ["a javascript: address at line 1"]
    assert inline_findings("<datalist hx-vals='js:{q: 1}'>") == [
        "code htmx would evaluate at line 1"
    ]
    # Allowed: scripts from files, presentation attributes of SVG, data attributes, text.
    assert inline_findings('<script src="/static/portico/portico.js" defer></script>') == []
    assert inline_findings('<text font-style="italic" fill="#000">Based on=x</text>') == []
    assert inline_findings('<select data-autosubmit name="period">') == []


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(BASE)))
def test_templates_have_no_inline_style_script_or_event_handler(path):
    assert inline_findings(path.read_text()) == []


@pytest.mark.parametrize("path", MARKUP_WRITERS, ids=lambda p: str(p.relative_to(BASE)))
def test_python_that_writes_markup_writes_no_inline_style_or_script(path):
    source = path.read_text()
    assert inline_findings(source) == []
    assert not re.search(r"[\"']style[\"']\s*:", source), "a style attribute given to a column"


@pytest.mark.django_db
def test_the_value_stream_map_svg_uses_presentation_attributes_only():
    stream = ValueStreamFactory(name="Settle a claim")
    StageFactory(value_stream=stream, position=0, name="Report it", moment_of_truth=True)
    StageFactory(value_stream=stream, position=1, name="Pay it", responsible_party="")
    stages = selectors.stages_of(stream)
    svg = maps.draw(maps.layout(stream, stages, selectors.flow_measures(stages)))
    assert "<svg" in svg and 'font-style="italic"' in svg
    assert inline_findings(svg) == []


def test_stylesheets_and_scripts_live_in_static_files():
    """One stylesheet for the pages (the vendored Pico aside), no per-app copies."""
    assert not list(BASE.glob("*/static/**/*.css")), "a per-app stylesheet"
    own = sorted(p.name for p in (BASE / "static" / "portico").glob("*.css"))
    # portico.css for every page; the PDF report's print styles; the API docs' three rules.
    assert own == ["api-docs.css", "portico.css", "report-pdf.css"]
    links = {
        path.relative_to(BASE): re.findall(r"<link rel=\"stylesheet\"[^>]*>", path.read_text())
        for path in TEMPLATE_FILES
    }
    assert {str(path) for path, found in links.items() if found} == {
        "templates/base.html",
        "templates/500.html",  # stands alone: Pico only, nothing that could fail to render
        "templates/finance/report_pdf.html",
        "templates/finance/statement_pdf.html",  # the same print styles
        "templates/finance/review_pack_pdf.html",  # the same print styles
        "templates/drf_spectacular/swagger_ui.html",
    }


# --- Content-Security-Policy and Permissions-Policy ------------------------------------------


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def assert_strict_policy(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    # Scripts and styles fall back to default-src: nothing inline, nothing evaluated.
    for name in ("script-src", "style-src", "script-src-attr", "style-src-attr"):
        assert policy.get(name, ["'self'"]) == ["'self'"], name
    assert "unsafe" not in response["Content-Security-Policy"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", feature


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy_and_a_permissions_policy(client):
    assert_strict_policy(client.get(reverse("login")))
    client.force_login(UserFactory(role="Viewer"))
    assert_strict_policy(client.get(reverse("dashboard")))
    assert_strict_policy(client.get(reverse("api:docs")))
    assert_strict_policy(client.get("/no-such-page/"))


@pytest.mark.django_db
def test_api_answers_carry_the_policies_too(client):
    assert_strict_policy(client.get(reverse("api:root")))  # refused: no token
    client.force_login(UserFactory(role="Viewer"))
    answer = client.get(reverse("api:root"))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert_strict_policy(answer)


@pytest.mark.django_db
def test_the_api_docs_page_starts_swagger_from_a_file(client):
    client.force_login(UserFactory(role="Viewer"))
    page = client.get(reverse("api:docs")).content.decode()
    assert inline_findings(page) == []
    assert 'data-schema-url="/api/v1/schema/"' in page
    assert re.search(r'<script src="[^"]*portico/api-docs\.js"', page)


# --- Forms: help texts and errors tied to their fields ---------------------------------------


class Elements(HTMLParser):
    """Every element's id, and every aria-describedby with the element that carries it."""

    def __init__(self, html: str):
        super().__init__()
        self.ids: list[str] = []
        self.described: list[tuple[str, str, list[str]]] = []
        self.errors: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"])
        if attributes.get("aria-describedby"):
            self.described.append(
                (tag, attributes.get("name") or attributes.get("id") or "",
                 attributes["aria-describedby"].split())
            )  # fmt: skip
        if "field-error" in (attributes.get("class") or "").split():
            self.errors.append(attributes)


def assert_fields_are_described(html: str, where: str):
    page = Elements(html)
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    assert duplicates == [], f"{where}: ids used twice: {duplicates}"
    referenced = {ref for _, _, refs in page.described for ref in refs}
    for tag, name, refs in page.described:
        missing = [ref for ref in refs if ref not in page.ids]
        assert missing == [], f"{where}: {tag} {name} points at missing {missing}"
    helptexts = [i for i in page.ids if i.endswith("_helptext")]
    assert [h for h in helptexts if h not in referenced] == [], f"{where}: help text unread"
    field_errors = [i for i in page.ids if i.endswith("_error")]
    assert [e for e in field_errors if e not in referenced] == [], f"{where}: error unread"
    return page


@pytest.fixture
def forms_world(db):
    """A superuser, a service and a value stream: every add form opens for them."""
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    service = ServiceFactory(name="Claims", slug="claims")
    stream = ValueStreamFactory(name="Settle a claim", slug="settle-a-claim", owner=admin)
    return {"admin": admin, "service": service, "stream": stream}


def add_form_urls(world) -> list[str]:
    names = [
        "portfolio:service_add", "portfolio:customer_add", "portfolio:supplier_add",
        "portfolio:contract_add", "portfolio:application_add", "finance:costitem_add",
        "finance:pool_add", "finance:rate_add", "finance:report_add",
        "valuestreams:valuestream_add", "valuestreams:process_add",
        "valuestreams:improvement_add", "maturity:unit_add", "maturity:self_assessment_add",
    ]  # fmt: skip
    return [
        *(reverse(name) for name in names),
        reverse("portfolio:item_add", args=["claims", "facility", "functioning"]),
        reverse("valuestreams:stage_add", args=["settle-a-claim"]),
        reverse("profile"),
    ]


def test_every_help_text_and_error_is_tied_to_its_field(client, forms_world):
    client.force_login(forms_world["admin"])
    checked_help = checked_errors = 0
    for url in add_form_urls(forms_world):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        elements = assert_fields_are_described(html, f"GET {url}")
        checked_help += sum(1 for i in elements.ids if i.endswith("_helptext"))

        answer = client.post(url, {})
        if answer.status_code != 422:
            continue
        html = answer.content.decode()
        elements = assert_fields_are_described(html, f"POST {url}")
        per_field = [e["id"] for e in elements.errors if e.get("id")]
        # One error element per field: never two for one field, never one without an id
        # beside a field (a form's own errors are one block without an id).
        assert len(per_field) == len(set(per_field)), f"POST {url}: {per_field}"
        loose = [e for e in elements.errors if not e.get("id") and e.get("role") != "alert"]
        assert loose == [], f"POST {url}: errors without their field's id"
        checked_errors += len(per_field)
    # The walk saw what it is about: many help texts and errors.
    assert checked_help >= 20 and checked_errors >= 15, (checked_help, checked_errors)


@pytest.mark.django_db
def test_a_choice_group_is_described_by_its_fieldset(client, forms_world):
    """Check boxes of one field sit in a fieldset; Django gives its inputs no
    aria-describedby, so the fieldset carries it."""
    client.force_login(forms_world["admin"])
    html = client.post(reverse("finance:report_add"), {"name": "Pack"}).content.decode()
    fieldset = re.search(r"<fieldset aria-describedby=\"([^\"]+)\">\s*<legend>Formats", html)
    assert fieldset, "the formats fieldset names its notes"
    assert "id_formats_error" in fieldset.group(1).split()
    assert html.count('id="id_formats_error"') == 1


def test_amounts_in_the_map_totals_follow_the_money_rule(db):
    """The map is Python-drawn SVG: its cost figures go through core.money too."""
    stream = ValueStreamFactory(name="Pay out")
    stages = selectors.stages_of(stream)
    costs = selectors.StreamCosts(
        period="2025-03", currency="EUR", total=Decimal("1234.125"), per_stage={}
    )
    layout = maps.layout(stream, stages, selectors.flow_measures(stages), costs)
    assert ("Cost 2025-03", "1,234.12 EUR") in [(row.label, row.value) for row in layout.totals]
    what_if = selectors.StreamCosts("2025-03", "EUR", {}, Decimal("0.125"), what_if=True)
    layout = maps.layout(stream, stages, selectors.flow_measures(stages), what_if)
    assert ("Cost 2025-03 (what-if)", "0.12 EUR") in [
        (row.label, row.value) for row in layout.totals
    ]


# --- One detail page, extended ------------------------------------------------------------

DETAIL_PAGES = sorted(
    path
    for path in [
        *(BASE / "templates").glob("*/*_detail.html"),
        BASE / "templates" / "maturity" / "party.html",
    ]
    if path.parent.name != "generic"
)


@pytest.mark.parametrize("path", DETAIL_PAGES, ids=lambda p: str(p.relative_to(BASE)))
def test_detail_pages_extend_the_generic_detail_page(path):
    """The header, breadcrumb, actions and history link are written once, in
    generic/object_detail.html; a page gives its blocks."""
    text = path.read_text()
    assert text.startswith('{% extends "generic/object_detail.html" %}')
    assert 'aria-label="breadcrumb"' not in text
    assert "object_history" not in text and "<h1" not in text
    assert "{% block content %}" not in text and "{% block details %}" in text


def test_there_are_twenty_one_detail_pages():
    assert len(DETAIL_PAGES) == 21


@pytest.mark.django_db
def test_the_generic_detail_page_gives_each_record_its_actions(client):
    from finance.models import Period
    from tests.factories.finance import PeriodFactory
    from tests.factories.portfolio import ContractFactory

    client.force_login(UserFactory(role="Portfolio manager"))
    service = ServiceFactory(name="Claims", slug="claims")
    page = client.get(service.get_absolute_url()).content.decode()
    header = page[page.index('<nav aria-label="breadcrumb">') : page.index("</h1>") + 400]
    assert f'<a href="{reverse("portfolio:service_list")}">Services</a></li><li>Claims</li>' in (
        header
    )
    for label, url in (
        ("Edit", reverse("portfolio:service_edit", args=["claims"])),
        ("Remove…", reverse("portfolio:service_delete", args=["claims"])),  # says what it does
        ("History", reverse("object_history", args=["portfolio", "service", service.pk])),
    ):
        assert re.search(rf'href="{re.escape(url)}">{label}</a>', page), label

    contract = ContractFactory(reference="C-1", title="Hosting")
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "<h1>C-1 · Hosting</h1>" in page
    assert f'href="{reverse("portfolio:contract_edit", args=[contract.pk])}">Edit</a>' in page

    period = PeriodFactory(year=2025, month=3)
    page = client.get(period.get_absolute_url()).content.decode()
    assert ">Fund services</a>" in page and ">Close the period</button>" in page
    history = reverse("object_history", args=["finance", "period", period.pk])
    assert f'href="{history}">History</a>' in page
    assert ">Edit</a>" not in page and ">Remove</a>" not in page  # opened and closed, not edited
    assert not Period.objects.get(pk=period.pk).is_closed

    client.force_login(UserFactory(role="Viewer"))
    page = client.get(service.get_absolute_url()).content.decode()
    assert ">Edit</a>" not in page and ">Remove</a>" not in page and ">History</a>" in page
