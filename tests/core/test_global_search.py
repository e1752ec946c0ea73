"""The header's search (core.finder, /search/): every kind a user may see, found by the
beginnings of its words, ranked, grouped by kind with counts, in one query."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import finder
from core import search
from people.models import Profile
from portfolio.choices import ServiceLifecycle
from tests.factories import UserFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = pytest.mark.django_db

URL = "/search/"


def found(response) -> dict[str, list[str]]:
    """kind -> titles, in the order the page shows them."""
    return {
        group.kind.name: [hit.title for hit in group.hits] for group in response.context["groups"]
    }


@pytest.fixture
def world(portfolio_manager):
    """One record of every kind, each named with the word "harbour"."""
    owner = UserFactory(username="hollis", first_name="Hana", last_name="Hollis")
    supplier = SupplierFactory(name="Harbour Supplies", owner=owner)
    stream = ValueStreamFactory(name="Harbour onboarding", owner=owner)
    return {
        "service": ServiceFactory(name="Harbour billing", owner=owner),
        "application": ApplicationFactory(name="Harbour ledger", owner=owner),
        "customer": CustomerFactory(name="Harbour city council", relationship_manager=owner),
        "supplier": supplier,
        "contract": ContractFactory(supplier=supplier, reference="H-1", title="Harbour support"),
        "valuestream": stream,
        "stage": StageFactory(value_stream=stream, name="Check harbour papers"),
        "costpool": CostPoolFactory(name="Harbour data centre", owner=owner),
        "person": UserFactory(username="hbr", first_name="Harbour", last_name="Master"),
    }


def test_every_kind_is_found_grouped_in_order_with_owner_and_link(client, portfolio_manager, world):
    client.force_login(portfolio_manager)
    response = client.get(URL, {"q": "harbour"})
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [group.kind.name for group in groups] == [
        "service",
        "application",
        "customer",
        "supplier",
        "contract",
        "valuestream",
        "stage",
        "costpool",
        "person",
    ]
    assert all(group.count == len(group.hits) == 1 for group in groups)
    by_kind = {group.kind.name: group.hits[0] for group in groups}
    assert by_kind["service"].owner == "Hana Hollis"
    assert by_kind["service"].url == world["service"].get_absolute_url()
    assert by_kind["contract"].title == "H-1 Harbour support"
    assert by_kind["contract"].context == "Harbour Supplies"
    assert by_kind["stage"].url == world["stage"].get_absolute_url()
    assert by_kind["stage"].context == "Harbour onboarding"
    assert by_kind["costpool"].url == world["costpool"].get_absolute_url()
    assert by_kind["person"].title == "Harbour Master"
    assert by_kind["person"].url == reverse("people:person_detail", args=[world["person"].pk])
    html = response.content.decode()
    assert "Services <small>(1)</small>" in html
    assert f'href="{world["service"].get_absolute_url()}"' in html


def test_words_are_found_by_their_beginnings_all_of_them(client, viewer):
    ServiceFactory(name="Billing and payments")
    ServiceFactory(name="Payroll")
    ServiceFactory(name="Bill printing")
    client.force_login(viewer)
    assert found(client.get(URL, {"q": "bil pay"})) == {"service": ["Billing and payments"]}
    assert sorted(found(client.get(URL, {"q": "PAY"}))["service"]) == [
        "Billing and payments",
        "Payroll",
    ]
    # Punctuation is no syntax: it separates words.
    assert found(client.get(URL, {"q": "bill & !pay:* | ('"})) == {
        "service": ["Billing and payments"]
    }
    assert found(client.get(URL, {"q": "nothing-like-it"})) == {}


def test_a_match_in_the_name_ranks_before_one_in_other_fields_retired_last(client, viewer):
    ServiceFactory(name="Claims intake", lifecycle=ServiceLifecycle.RETIRED)
    ServiceFactory(name="Customer portal", summary="Lodging of claims, and their status.")
    ServiceFactory(name="Claims handling")
    client.force_login(viewer)
    response = client.get(URL, {"q": "claims"})
    assert found(response)["service"] == ["Claims handling", "Customer portal", "Claims intake"]
    (group,) = response.context["groups"]
    assert [hit.retired for hit in group.hits] == [False, False, True]
    assert '<span class="badge">Retired</span>' in response.content.decode()


def test_retired_records_of_each_kind_are_marked(client, portfolio_manager):
    CustomerFactory(name="Old harbour", retired_at=timezone.now())
    UserFactory(username="gone", first_name="Old", last_name="Harbour", is_active=False)
    client.force_login(portfolio_manager)
    response = client.get(URL, {"q": "old harbour"})
    hits = {group.kind.name: group.hits[0] for group in response.context["groups"]}
    assert hits["customer"].retired and hits["person"].retired
    assert "Deactivated" in response.content.decode()


def test_only_kinds_the_user_may_see_are_searched(client, world):
    only_services = UserFactory(username="narrow")
    only_services.user_permissions.add(Permission.objects.get(codename="view_service"))
    client.force_login(only_services)
    assert list(found(client.get(URL, {"q": "harbour"}))) == ["service"]


def test_a_viewer_does_not_find_people(client, viewer, world):
    client.force_login(viewer)
    kinds = found(client.get(URL, {"q": "harbour"}))
    assert "person" not in kinds and "service" in kinds


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL, {"q": "harbour"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_one_kind_shows_more_of_it(client, viewer):
    for n in range(finder.LISTED + 2):
        ServiceFactory(name=f"Harbour service {n}")
    client.force_login(viewer)
    response = client.get(URL, {"q": "harbour"})
    (group,) = response.context["groups"]
    assert group.count == finder.LISTED + 2 and len(group.hits) == finder.LISTED
    assert "All 12 services" in response.content.decode()
    response = client.get(URL, {"q": "harbour", "kind": "service"})
    (group,) = response.context["groups"]
    assert len(group.hits) == finder.LISTED + 2


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ({"q": ""}, "Type a name"),
        ({"q": "   "}, "Type a name"),
        ({"q": "x" * (finder.MAX_QUERY_LENGTH + 1)}, "A search is at most 200 characters long"),
        ({"q": "?!*&|"}, "it needs at least one letter or digit"),
        ({"q": "harbour", "kind": "spaceship"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_answer(client, viewer, query, answer):
    client.force_login(viewer)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert answer in response.content.decode()
    assert response.context["groups"] == []


def test_a_null_character_is_refused_naming_the_parameter(client, viewer):
    client.force_login(viewer)
    response = client.get(URL, {"q": "har\x00bour"})
    assert response.status_code == 400
    assert "“q” holds a null character" in response.content.decode()


def test_the_header_asks_for_suggestions_which_are_a_listbox_of_links(client, viewer, world):
    client.force_login(viewer)
    page = client.get("/").content.decode()
    assert 'role="search"' in page and 'action="/search/"' in page
    assert 'hx-get="/search/"' in page and 'aria-controls="site-search-suggestions"' in page
    response = client.get(URL, {"q": "harb"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<h1>" not in html
    assert 'role="listbox"' in html and html.count('role="option"') == 8 + 1  # and "All results"
    assert f'href="{world["service"].get_absolute_url()}"' in html


def test_a_single_letter_is_a_whole_word(client, viewer):
    ServiceFactory(name="Plan B")
    ServiceFactory(name="Billing")
    client.force_login(viewer)
    assert found(client.get(URL, {"q": "b"})) == {"service": ["Plan B"]}
    assert found(client.get(URL, {"q": "bi"})) == {"service": ["Billing"]}


def test_one_query_whatever_the_kinds_and_matches(client, portfolio_manager):
    client.force_login(portfolio_manager)
    client.get(URL, {"q": "harbour"})  # the session and the rights, read once

    def queries(q: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"q": q}).status_code == 200
        return len(captured)

    few = queries("harbour")
    world_owner = UserFactory(username="many")
    for n in range(5):
        ServiceFactory(name=f"Harbour {n}")
        CustomerFactory(name=f"Harbour {n}")
        ValueStreamFactory(name=f"Harbour stream {n}", owner=world_owner)
        CostPoolFactory(name=f"Harbour pool {n}")
    assert queries("harbour") == few
    assert queries("harbour stream") == few


def test_the_search_is_one_query_on_the_full_text_indexes(portfolio_manager, world):
    """The union of the branches reads each kind's words index (the same expression)."""
    for n in range(50):
        ServiceFactory(name=f"Filler {n}")
    with CaptureQueriesContext(connection) as captured:
        groups = finder.find(portfolio_manager, "harbour")
    assert len(groups) == 9
    searches = [q["sql"] for q in captured.captured_queries if "to_tsquery" in q["sql"]]
    assert len(searches) == 1 and searches[0].count("UNION ALL") == 8
    with connection.cursor() as cursor:
        # Whether PostgreSQL *can* answer from the indexes: no whole-table read, neither
        # sequential nor along an unrelated index (a choice statistics would sway).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + searches[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for kind in finder.kinds():
        assert f"{kind.name}_words" in plan, plan


def test_every_kind_declares_its_words_index(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes "
            "WHERE schemaname = current_schema() AND indexdef LIKE '%USING gin (search_words)'"
        )
        indexes = {row[0] for row in cursor.fetchall()}
    for kind in finder.kinds():
        assert search.document_fields(kind.model), kind.name
    assert {
        "service_words",
        "application_words",
        "customer_words",
        "supplier_words",
        "contract_words",
        "valuestream_words",
        "stage_words",
        "costpool_words",
        "person_words",
    } <= indexes


def test_query_words_keep_letters_and_digits_only():
    assert search.query_words("Bill-ing & 'pay':* 2024 Ünïcode") == [
        "bill",
        "ing",
        "pay",
        "2024",
        "ünïcode",
    ]
    assert search.prefix_query("!!") is None
    # A single letter is a whole word: as a beginning it would match nearly everything.
    assert search.raw_prefix_query("b x2") == "'b' & 'x2':*"
    assert len(search.query_words("a " * 50)) == search.MOST_WORDS


def test_unit_name_is_the_context_of_a_person(client, portfolio_manager):
    unit = OrganisationUnitFactory(name="Harbour office")
    person = UserFactory(username="pat", first_name="Pat", last_name="Quay")
    Profile.objects.create(user=person, unit=unit)
    client.force_login(portfolio_manager)
    (group,) = client.get(URL, {"q": "quay"}).context["groups"]
    assert group.hits[0].context == "Harbour office"


def test_a_contract_is_found_by_its_reference(db):
    ContractFactory(reference="ZX-2024", title="Maintenance", start_date=datetime.date(2024, 1, 1))
    manager = UserFactory(username="m2", role="Portfolio manager")
    (group,) = finder.find(manager, "zx")
    assert group.hits[0].title == "ZX-2024 Maintenance"


def test_a_kind_seen_in_part_is_restricted_as_its_list(client, monkeypatch):
    """Rights on some records only (a grant's rows): the branch is built for the user."""
    from django.db.models import Q

    from core import permissions
    from portfolio.models import Service

    seen_in_part = permissions.Grant(
        allows=lambda user, action, before, after: False,
        rows=lambda user, action: Q(name__startswith="Mine") if action == "view" else None,
    )
    monkeypatch.setitem(permissions._grants, Service, [seen_in_part])
    ServiceFactory(name="Mine harbour")
    ServiceFactory(name="Theirs harbour")
    someone = UserFactory(username="partial")
    someone.user_permissions.add(Permission.objects.get(codename="view_customer"))
    CustomerFactory(name="Harbour customer")
    client.force_login(someone)
    assert found(client.get(URL, {"q": "harbour"})) == {
        "service": ["Mine harbour"],
        "customer": ["Harbour customer"],
    }
