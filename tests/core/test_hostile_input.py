"""No input a client can send answers 500.

First the review's reproductions, one by one: deeply nested JSON, per_page, NUL characters,
history ids, and the table partial the finance lists lacked. Then every API list is given
hostile query strings, and the HTML views are fuzzed as a whole: every URL pattern of the site
(the admin and the API aside) is requested with its real ids and with hostile ones, with
hostile query strings, and every edit form is posted with hostile values, as an anonymous user,
a viewer and a portfolio manager. Real ids come from crawling the site as the portfolio manager
over one record of every kind. Every 500 is collected and named at once.
"""

import html
import re
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from urllib.parse import quote
from urllib.parse import unquote
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import get_resolver
from django.urls import resolve
from django.urls.converters import get_converters
from django.urls.exceptions import Resolver404

from budgets import services as budget_services
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core.api.resources import autodiscover
from core.api.tokens import issue_token
from core.forms import ChangeFromMonthForm
from customfields.models import CustomField
from finance import services as finance_services
from finance.models import Period
from finance.models import parse_label
from imports import services as import_services
from portfolio.models import Service
from tests.api.conftest import ApiClient
from tests.factories import cloud
from tests.factories import ledger
from tests.factories.budgets import BudgetLineFactory
from tests.factories.budgets import BudgetVersionFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import DriverFactory
from tests.factories.finance import DriverQuantityFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.maturity import AssessmentFactory
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory
from tests.factories.maturity import ProviderUnitFactory
from tests.factories.maturity import SelfAssessmentFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.performance import MeasurementFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.portfolio import SupplierFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import ProcessConnectionFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams.models import VerbList

HUGE = "99999999999999999999"  # more than any column holds
HTMX = {"HX-Request": "true"}


# --- The reproductions of the review -----------------------------------------------------------


def nested(depth: int):
    value: list | dict = {"c1a": 1}
    for _ in range(depth - 1):
        value = [value]
    return value


TOO_DEEP = "Nested more than 32 levels deep."
JSON_FIELDS = [("assessments", "answers"), ("processes", "activities")]


@pytest.mark.django_db
@pytest.mark.parametrize("resource, field", JSON_FIELDS)
def test_deeply_nested_json_is_refused_naming_the_field(resource, field, portfolio_manager):
    _, secret = issue_token(user=portfolio_manager, name="script", write=True)
    api = ApiClient(secret)
    response = api.post(f"/api/v1/{resource}/", {field: nested(500)})
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {field: [TOO_DEEP]}
    in_a_sync = {"source": "cmdb", "items": [{"external_id": "x", field: nested(500)}]}
    response = api.post(f"/api/v1/sync/{resource}/", in_a_sync)
    assert response.status_code == 400
    assert response.json()["errors"] == {f"items.0.{field}": [TOO_DEEP]}
    # Deeper than Python's own parser goes: refused as such, not a crash.
    response = api.post(f"/api/v1/{resource}/", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("resource, field", JSON_FIELDS)
def test_deeply_nested_json_from_a_viewer_with_a_write_token_is_refused(resource, field, viewer):
    """A viewer may not add these: refused for that, before the body is read."""
    _, secret = issue_token(user=viewer, name="script", write=True)
    response = ApiClient(secret).post(f"/api/v1/{resource}/", {field: nested(500)})
    assert response.status_code == 403, response.content


@pytest.mark.django_db
def test_a_read_only_token_is_refused_before_its_body_is_read(viewer):
    _, secret = issue_token(user=viewer, name="reader", write=False)
    api = ApiClient(secret)
    for body in (nested(500), "[" * 100_000, "not json"):
        response = api.post("/api/v1/assessments/", body)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_every_list_page_takes_any_per_page(client, viewer):
    for n in range(3):
        ServiceFactory(name=f"Service {n}", slug=f"service-{n}")
    client.force_login(viewer)
    for value, rows in (("-1", 3), ("0", 3), (HUGE, 3), ("abc", 3), ("١", 3), ("2", 2)):
        response = client.get("/services/", {"per_page": value})
        assert response.status_code == 200, value
        assert len(response.context["table"].page.object_list) == rows, value
    for value in ("-1", "0", HUGE, "abc"):
        assert client.get("/services/", {"page": value, "per_page": "2"}).status_code == 200


@pytest.mark.django_db
def test_a_null_character_in_any_query_parameter_is_refused(client, viewer, portfolio_manager):
    client.force_login(viewer)
    for path in ("/services/options/", "/applications/options/", "/value-streams/improvements/"):
        for query in ({"q": "a\x00"}, {"value_stream": "\x00"}, {"x\x00": "1"}):
            response = client.get(path, query)
            assert response.status_code == 400, (path, query)
            assert "null character" in response.content.decode()
    _, secret = issue_token(user=portfolio_manager, name="script", write=False)
    response = ApiClient(secret).get("/api/v1/services/", q="\x00")
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": ["Null characters are not allowed."]}


@pytest.mark.django_db
def test_history_of_an_id_that_cannot_be_one_is_not_found(client, viewer):
    service = ServiceFactory(name="Claims", slug="claims")
    client.force_login(viewer)
    base = "/history/portfolio/service/"
    assert client.get(f"{base}{service.pk}/").status_code == 200
    for text in ("abc", quote("été"), quote("١"), "1.5", HUGE, "-1"):
        assert client.get(f"{base}{text}/").status_code == 404, text


@pytest.mark.django_db
def test_superscript_digits_are_no_number(client, viewer):
    """ "²" passes str.isdigit, and int() refuses it: every number read from a query string
    takes ASCII digits only (core.numbers.whole_number)."""
    period = PeriodFactory(year=2025, month=3)
    client.force_login(viewer)
    assert client.get(f"/costs/periods/{period.label}/", {"compare": "²"}).status_code == 200
    _, secret = issue_token(user=viewer, name="script", write=False)
    response = ApiClient(secret).get("/api/v1/services/", page_size="²")
    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]


@pytest.mark.parametrize("written", ["2025-0\u0663", "\u0662025-03", "0999-03", "2025-13"])
def test_a_month_is_read_by_one_rule_in_ascii_digits(written):
    """A period's label and the month an edge changes from are read alike
    (core.numbers.month_label): int() took other scripts' digits, so "2025-0٣" was March."""
    with pytest.raises(ValidationError):
        parse_label(written)
    form = ChangeFromMonthForm({"month": written, "weight": "1"})
    assert not form.is_valid() and "month" in form.errors
    assert ChangeFromMonthForm({"month": " 2025-03 ", "weight": "1"}).is_valid()
    assert parse_label(" 2025-03 ") == (2025, 3)


@pytest.mark.django_db
def test_finance_lists_answer_htmx_with_their_table(client, viewer):
    client.force_login(viewer)
    for path in ("/costs/items/", "/costs/pools/", "/costs/rates/", "/costs/periods/"):
        response = client.get(path, {"q": "x"}, headers=HTMX)
        assert response.status_code == 200, path
        assert response.content.decode().lstrip().startswith('<div id="object-table">')


# --- Hostile values ---------------------------------------------------------------------------

# Not fuzzed with the HTML views: Django's admin, and the API (its lists are given hostile
# query strings on their own, below).
SKIPPED_PREFIXES = ("admin/", "api/")
# Leaving the session would end the crawl. A password reset link is only ever mailed (a reset
# or an invitation), never linked: tests/core/test_password_reset.py and
# tests/people/test_people_pages.py give it hostile values.
NOT_CRAWLED = {"logout", "password_reset_confirm"}

LONG = "x" * 3000
DEEP_JSON = "[" * 600 + "]" * 600
# What replaces an id in a path (as written in the URL); only those its converter accepts
# reach a view, the others are the resolver's 404.
HOSTILE_SEGMENTS = ["-1", "0", HUGE, quote("été"), quote("١٢"), "%00", LONG, quote("a b")]
# What every query parameter of a page is given at once, then (a search form's and the
# usual ones) each on its own.
HOSTILE_QUERY_VALUES = ["\x00", HUGE, "-1", "١٢", "²", LONG, "1e400", ["-1", HUGE]]
HOSTILE_PARAMETER_VALUES = [HUGE, "-1", LONG]
SORT_VALUES = ["nope", "-nope", "name,nope", "-"]
STANDARD_PARAMETERS = ("page", "per_page", "sort", "q", "export", "next")
# What a form field is given, by the kind of its input; a list is the field sent twice.
HOSTILE_FORM_VALUES = {
    "text": ["\x00", LONG, DEEP_JSON],
    "number": [HUGE, "1e400", "NaN", "١٢"],
    "date": ["99999-12-31", "2025-02-30"],
    "select": ["nope", HUGE, ["nope", HUGE]],
    "checkbox": ["nope"],
    "hidden": ["\x00", HUGE],
}


# --- Every API list ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_api_list_survives_hostile_query_strings(portfolio_manager):
    _, secret = issue_token(user=portfolio_manager, name="script", write=False)
    api = ApiClient(secret)
    failures = []
    for resource in autodiscover():
        url = f"/api/v1/{resource.name}/"
        names = ["page_size", "cursor", "updated_since", "source", "external_id"]
        if resource.reads.filterset:
            names += list(resource.reads.filterset.base_filters)
        # Every parameter at once with each value (a filter refused names itself), then each
        # on its own with a number no column holds (a refused neighbour would hide it).
        queries = [dict.fromkeys(names, value) for value in HOSTILE_QUERY_VALUES]
        queries += [{name: HUGE} for name in names]
        queries += [{"per_page": "-1"}, {"page_size": "0"}, {"page_size": "١٢"}]
        for query in queries:
            response = api.get(url, **query)
            if response.status_code >= 500:
                failures.append(f"{url} {_short(query)}: {response.status_code}")
            elif response.status_code == 400:
                assert set(response.json()["errors"]) & set(query), (url, response.json())
        for extra in ("", *(f"{e.name}/" for e in resource.reads.extras)):
            response = api.get(f"{url}{HUGE}/{extra}")
            if response.status_code >= 500:
                failures.append(f"{url}{HUGE}/{extra}: {response.status_code}")
    assert not failures, failures


# --- The HTML views: one record of every kind ---------------------------------------------------


@pytest.fixture
def site(portfolio_manager, viewer, service_owner):
    """One of everything the pages show, owned by someone who is not the viewer."""
    service = ServiceFactory(name="Claims", slug="claims", owner=service_owner)
    platform = ServiceFactory(name="Platform", slug="platform", owner=service_owner)
    SpecificationItemFactory(service=service)
    MeasurementFactory(item=SpecificationItemFactory(service=service, functioning=True))
    ServiceDependencyFactory(provider=platform, consumer=service)
    customer = CustomerFactory(name="Retail", slug="retail")
    subscription = SubscriptionFactory(customer=customer, service=service)
    MeasurementFactory(item=None, outcome=OutcomeFactory(subscription=subscription))
    VerbList.objects.get_or_create(
        name="Fuzzing verbs", defaults={"language": "en", "verbs": "register assess pay"}
    )
    # Custom fields of services: their form fields and list filters are fuzzed too.
    for name, kind, extra in (
        ("fuzz_fee", "decimal", {"minimum": "0"}),
        ("fuzz_tier", "multiple_choice", {"choices": "gold\nsilver"}),
        ("fuzz_account", "reference", {"reference_model": "portfolio.customer"}),
        ("fuzz_due", "date", {}),
    ):
        CustomField.objects.get_or_create(
            model="portfolio.service", name=name, defaults={"label": name, "type": kind, **extra}
        )
    supplier = SupplierFactory(name="Vendor", slug="vendor")
    contract = ContractFactory(supplier=supplier)
    ContractCoverageFactory(contract=contract, service=service)
    application = ApplicationFactory(name="Claims app", slug="claims-app")
    ApplicationSupportFactory(application=application, service=service)
    # One the crawling Portfolio manager owns, so its page offers the owner's confirmation.
    ApplicationFactory(name="Steward app", slug="steward-app", owner=portfolio_manager)
    january = PeriodFactory(year=2025, month=1)
    PeriodFactory(year=2025, month=2)
    CostItemFactory(period=january, service=service)
    pool = CostPoolFactory(name="Hosting", slug="hosting")
    PoolAllocationFactory(pool=pool, service=service)
    CostItemFactory(period=january, pool=pool, service=None)
    ExchangeRateFactory(period=january)
    sites = DriverFactory(name="Sites", slug="sites")
    DriverQuantityFactory(driver=sites, period=january, service=service)
    finance_services.close_period(period=january)
    definition = ReportDefinitionFactory(name="Pack", formats=["csv"])
    finance_services.run_report(definition, period="2025-01")
    mail.outbox.clear()
    stream = ValueStreamFactory(name="Claim", slug="claim")
    stage = StageFactory(value_stream=stream)
    StageServiceFactory(stage=stage, service=service)
    process = ProcessFactory(value_stream=stream, activities=["Register the claim"])
    ProcessConnectionFactory(process=process, connected_to=ProcessFactory())
    ImprovementFactory(value_stream=stream, stage=stage)
    OrganisationFactory()
    unit = ProviderUnitFactory(unit__name="Claims desk")
    AssessmentFactory(party=unit)
    AssessmentFactory(party=CustomerPartyFactory(customer=customer, served_by=unit))
    SelfAssessmentFactory()
    cloud.make_tag_rule(service=service)
    cloud.make_synonym()
    cloud.import_sample()
    ledger.make_rule(service=service)
    ledger.import_rows(ledger.ledger_rows(20))
    division = OrganisationUnitFactory(name="Claims division", slug="claims-division")
    team = OrganisationUnitFactory(name="Claims IT", slug="claims-it", parent=division)
    Service.objects.filter(pk=service.pk).update(unit=team)
    BudgetLineFactory(version=BudgetVersionFactory(fiscal_year=2025), service=service)
    issue_token(user=portfolio_manager, name="script", write=True)
    import_services.start_run(
        user=portfolio_manager,
        filename="services.csv",
        content=b"External id,Name,Kind\nx-1,Imported,internal\n",
        source="fuzz",
    )
    # A budget of each year and a scenario on it, with a change: the Fund services budget
    # view of the period it opens on links it.
    for fiscal_year in sorted({period.fiscal_year for period in Period.objects.all()} | {2025}):
        plan = budget_services.create_version(fiscal_year=fiscal_year, name="Plan", user=None)
        scenario = Scenario.objects.create(name="What if", base=plan)
        ScenarioChange.objects.create(scenario=scenario, kind="retired_service", service=service)
    return {"portfolio_manager": portfolio_manager, "viewer": viewer}


# --- Reading pages: links and forms ----------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    # name -> (kind, baseline values)
    fields: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


class PageReader(HTMLParser):
    """The links and the forms of a page, each field with the value a person would send: as
    the page fills it in, or, where it is empty, a plausible one (so that a form sent with one
    hostile field gets past its other fields)."""

    LINK_ATTRIBUTES = ("href", "action", "hx-get", "hx-post", "src", "data-href")
    PLAUSIBLE = {"email": "someone@example.org", "url": "https://example.org/", "number": "1"}
    PLAUSIBLE_DATE = "2025-01-15"

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        for name in self.LINK_ATTRIBUTES:
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag == "form":
            action = attrs.get("hx-post") or attrs.get("action") or self.page_url
            method = "post" if attrs.get("hx-post") else attrs.get("method", "get").lower()
            self._form = Form(method, action)
            self.forms.append(self._form)
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value", ""), "selected" in attrs))
        if self._form is None or not attrs.get("name") or "disabled" in attrs:
            return
        name = attrs["name"]
        if tag == "input":
            self._input(name, attrs.get("type", "text").lower(), attrs)
        elif tag == "select":
            self._select, self._options = name, []
            self._multiple = "multiple" in attrs
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def _input(self, name: str, kind: str, attrs: dict) -> None:
        value = attrs.get("value", "")
        if kind in ("submit", "button", "reset", "file", "image"):
            return
        if kind == "checkbox":
            self._field(name, "checkbox", [value or "on"] if "checked" in attrs else [])
        elif kind == "radio":
            # A group: the checked one, else the first.
            known = self._form.fields.get(name)
            chosen = known[1] if known else []
            if "checked" in attrs or not chosen:
                chosen = [value]
            self._form.fields[name] = ("select", chosen)
        elif kind in ("number", "range"):
            self._field(name, "number", [value or self.PLAUSIBLE["number"]])
        elif kind in ("date", "month", "datetime-local", "time"):
            self._field(name, "date", [value or self.PLAUSIBLE_DATE])
        elif kind == "hidden":
            self._field(name, "hidden", [value])
        else:
            plausible = self.PLAUSIBLE.get(kind, "Sample text")
            self._field(name, "text", [value or plausible])

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple:
                # The first real choice: an empty one is "none" and often required.
                chosen = [value for value, _ in self._options if value][:1]
            self._field(self._select, "select", chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            # HTML drops the newline right after <textarea>.
            text = "".join(self._text).removeprefix("\n")
            self._field(self._textarea, "text", [text or "Sample text"])
            self._textarea = None

    def _field(self, name, kind, values):
        if self._form is not None:
            known = self._form.fields.get(name)
            if known and kind == "checkbox":
                values = known[1] + values  # a group of checkboxes under one name
            self._form.fields[name] = (kind, values)


def read_page(url: str, content: bytes) -> PageReader:
    reader = PageReader(url)
    reader.feed(content.decode("utf-8", errors="replace"))
    return reader


def site_path(link: str) -> str | None:
    """The path of a link within the site, or None for anything else."""
    parts = urlsplit(html.unescape(link))
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(tuple("/" + prefix for prefix in SKIPPED_PREFIXES)):
        return None
    if parts.path.startswith("/static/"):
        return None
    return parts.path


# --- The URL patterns ------------------------------------------------------------------------


def url_patterns(patterns=None, prefix="", namespace=""):
    """(route, view name) of every pattern of the site, the admin and the API aside."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield route, namespace + pattern.name


CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def fill(route: str, values: dict[str, str]) -> str:
    return "/" + CONVERTER.sub(lambda m: values[m["name"]], route)


def reaches_a_view(route: str, slot: str, segment: str) -> bool:
    """Whether the converter of ``slot`` in ``route`` accepts ``segment``."""
    (converter,) = [m["converter"] or "str" for m in CONVERTER.finditer(route) if m["name"] == slot]
    return re.fullmatch(get_converters()[converter].regex, unquote(segment)) is not None


def real_ids(client: Client) -> dict[str, dict[str, str]]:
    """View name -> the ids (kwargs, as written) of one real address of it: found by following
    every link and form of the site from the pages that need no id, or, for an address no
    page links to (a few remove pages), those of its sibling (``…/<int:pk>/edit/`` for
    ``…/<int:pk>/remove/``)."""
    found = crawl(client)
    routes = {name: route for route, name in url_patterns()}
    ids = dict(found)
    for name, route in routes.items():
        if name in found or not CONVERTER.search(route):
            continue
        stem = route[: route.rindex(">") + 1]
        names = {m["name"] for m in CONVERTER.finditer(route)}
        for other, kwargs in found.items():
            if routes[other].startswith(stem) and set(kwargs) == names:
                ids[name] = kwargs
                break
    return ids


def crawl(client: Client) -> dict[str, dict[str, str]]:
    """View name -> the raw kwargs of one address of it the pages link to."""
    samples: dict[str, dict[str, str]] = {}
    visits: dict[str, int] = {}
    queue = [fill(route, {}) for route, _ in url_patterns() if not CONVERTER.search(route)]
    seen = set(queue)
    while queue:
        path = queue.pop(0)
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.view_name in NOT_CRAWLED:
            continue
        # Every converter here (int, slug, str) shows its value as it was written.
        raw = {name: str(value) for name, value in match.captured_kwargs.items()}
        samples.setdefault(match.view_name, raw)
        visits[match.view_name] = visits.get(match.view_name, 0) + 1
        if visits[match.view_name] > 2:
            continue  # two of a kind show what a third would
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for link in read_page(path, response.content).links:
            target = site_path(link)
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
    return samples


# --- The fuzzing -----------------------------------------------------------------------------


def as_users(site):
    anonymous = Client()
    viewer, manager = Client(), Client()
    viewer.force_login(site["viewer"])
    manager.force_login(site["portfolio_manager"])
    return {"anonymous": anonymous, "viewer": viewer, "portfolio manager": manager}


def request(client: Client, method: str, path: str, data, failures: list, who: str, **headers):
    try:
        response = getattr(client, method)(path, data, headers=headers)
    except Exception as exc:  # the test client re-raises what the view raised
        failures.append(f"{who}: {method.upper()} {path[:200]} {_short(data)}: {exc!r}"[:600])
        return
    if response.status_code >= 500:
        failures.append(
            f"{who}: {method.upper()} {path[:200]} {_short(data)}: {response.status_code}"
        )


def _short(data) -> str:
    text = urlencode(data, doseq=True) if isinstance(data, dict) else str(data)
    return text if len(text) < 200 else text[:200] + "…"


def routes_to_fuzz(client: Client) -> list[tuple[str, str, dict[str, str]]]:
    """(view name, route, real ids) of every pattern; each must have a real address."""
    ids = real_ids(client)
    routes = [(name, route) for route, name in url_patterns() if name not in NOT_CRAWLED]
    missing = sorted(name for name, _ in routes if name not in ids)
    assert not missing, f"no page links to {missing}: give the fuzzing a record of that kind"
    return [(name, route, ids[name]) for name, route in sorted(routes)]


@pytest.mark.django_db
def test_every_page_survives_hostile_ids_and_query_strings(site):
    users = as_users(site)
    failures: list[str] = []
    for _name, route, real in routes_to_fuzz(users["portfolio manager"]):
        path = fill(route, real)
        for who, client in users.items():
            # Hostile ids: each in turn, the others real.
            for slot in real:
                for segment in HOSTILE_SEGMENTS:
                    if reaches_a_view(route, slot, segment):
                        hostile = fill(route, {**real, slot: segment})
                        request(client, "get", hostile, {}, failures, who)
            # Hostile query strings: every parameter the page's search forms name, and the
            # usual ones, all at once; where the page has a search form, each on its own too.
            # (The header's search form is the search page's: fuzzed there.)
            page = client.get(path)
            searched = set()
            if page.status_code == 200 and "html" in page.get("Content-Type", ""):
                for form in read_page(path, page.content).forms:
                    if form.method == "get" and urlsplit(form.action).path in ("", path):
                        searched |= set(form.fields)
            names = searched | set(STANDARD_PARAMETERS)
            for value in HOSTILE_QUERY_VALUES:
                request(client, "get", path, dict.fromkeys(names, value), failures, who)
            # As htmx asks: the page's partial, where it has one.
            request(client, "get", path, dict.fromkeys(names, HUGE), failures, who, **HTMX)
            # One bad parameter can hide another (the filters are not applied at all): each
            # on its own, as the one who sees every row.
            if not searched or who != "portfolio manager":
                continue
            for parameter in sorted(names):
                values = SORT_VALUES if parameter == "sort" else HOSTILE_PARAMETER_VALUES
                for value in values:
                    # As htmx asks (only the table is drawn): the same parameters are read.
                    request(client, "get", path, {parameter: value}, failures, who, **HTMX)
    assert not failures, f"{len(failures)} answers of 500:\n" + "\n".join(failures[:80])


@pytest.mark.django_db
def test_every_form_survives_hostile_values(site):
    users = as_users(site)
    manager = users["portfolio manager"]
    forms: dict[str, Form] = {}
    for _name, route, real in routes_to_fuzz(manager):
        path = fill(route, real)
        response = manager.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in read_page(path, response.content).forms:
            action = site_path(form.action) or path
            fields = {n: f for n, f in form.fields.items() if n != "csrfmiddlewaretoken"}
            if form.method == "post" and fields and action not in forms:
                forms[action] = Form("post", action, fields)
    # A form shown at two addresses (adding and changing) is one form: each field of it is
    # fuzzed at the first, everything at once at both.
    shapes: set = set()
    first_of_its_shape = set()
    for action, form in sorted(forms.items()):
        shape = frozenset((name, kind) for name, (kind, _) in form.fields.items())
        if shape not in shapes:
            shapes.add(shape)
            first_of_its_shape.add(action)
    assert len(forms) >= 20, sorted(forms)
    failures: list[str] = []
    longest = max(len(values) for values in HOSTILE_FORM_VALUES.values())
    for action, form in sorted(forms.items()):
        baseline = {name: values for name, (_, values) in form.fields.items() if values}
        for who, client in users.items():
            # Everything hostile at once, from everyone: refused, never a crash.
            for index in range(longest):
                data = {
                    name: HOSTILE_FORM_VALUES[kind][index % len(HOSTILE_FORM_VALUES[kind])]
                    for name, (kind, _) in form.fields.items()
                }
                request(client, "post", action, data, failures, who)
            if action not in first_of_its_shape or who == "anonymous":
                continue
            if client.post(action, baseline).status_code == 403:
                continue  # refused before the form is read
            # One field at a time, the others as the page filled them in.
            for name, (kind, _) in form.fields.items():
                for value in HOSTILE_FORM_VALUES[kind]:
                    data = {**baseline, name: value}
                    request(client, "post", action, data, failures, who, **HTMX)
    assert not failures, f"{len(failures)} answers of 500:\n" + "\n".join(failures[:80])
