"""The lists' ``q=`` search (core.search): a substring of any searched field, on an index."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db import transaction
from django.urls import reverse

from core import finder
from core import search
from core.filtersets import SearchFilterSet
from finance.filtersets import CostPoolFilterSet
from finance.filtersets import DriverFilterSet
from people.filtersets import OrganisationUnitFilterSet
from people.filtersets import PersonFilterSet
from portfolio.filtersets import ApplicationFilterSet
from portfolio.filtersets import ContractFilterSet
from portfolio.filtersets import CustomerFilterSet
from portfolio.filtersets import ServiceFilterSet
from portfolio.filtersets import SupplierFilterSet
from portfolio.models import Contract
from portfolio.models import Service
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from valuestreams.filtersets import ProcessFilterSet
from valuestreams.filtersets import ValueStreamFilterSet

pytestmark = pytest.mark.django_db

# The lists whose search must be answered by indexes: every field they search.
INDEXED_LISTS = (
    ServiceFilterSet,
    CustomerFilterSet,
    SupplierFilterSet,
    ContractFilterSet,
    ApplicationFilterSet,
    ValueStreamFilterSet,
    ProcessFilterSet,
    CostPoolFilterSet,
    DriverFilterSet,
    OrganisationUnitFilterSet,
    PersonFilterSet,
)


def search_indexes() -> dict[str, str]:
    """name -> definition of every trigram index in the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND indexdef LIKE '%gin_trgm_ops%'"
        )
        return dict(cursor.fetchall())


@pytest.mark.parametrize("filterset", INDEXED_LISTS, ids=lambda f: f.__name__)
def test_list_search_is_answered_by_indexes(filterset: type[SearchFilterSet]):
    model = filterset._meta.model
    assert search.is_indexed(model, filterset.search_fields), (
        f"{filterset.__name__} searches {filterset.search_fields}: declare a SearchIndex on "
        f"{model.__name__} covering its own fields (core.search)"
    )


def test_every_declared_search_index_exists_in_the_database():
    from django.apps import apps

    declared = {
        index.name
        for model in apps.get_models()
        for index in model._meta.indexes
        if isinstance(index, search.SearchIndex)
    }
    assert declared  # the portfolio's lists at least
    assert declared | {"person_search"} <= set(search_indexes())


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is small enough to read whole: make PostgreSQL show whether it *can*
        # answer the search from the index (it cannot when the expressions differ), reading
        # neither the whole table nor along an unrelated index (the name's, for the order):
        # which of those is cheaper depends on statistics other tests leave.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_of_services_uses_the_trigram_index():
    ServiceFactory.create_batch(3)
    queryset = Service.objects.filter(
        search.matching(Service, ServiceFilterSet.search_fields, "claims")
    )
    assert "Bitmap Index Scan on service_search" in plan_of(queryset)


def test_search_of_people_uses_the_index_of_their_migration():
    users = get_user_model()
    queryset = users.objects.filter(search.matching(users, PersonFilterSet.search_fields, "walter"))
    assert "person_search" in plan_of(queryset)


def test_search_through_a_foreign_key_uses_both_tables_indexes():
    ContractFactory.create_batch(2)
    queryset = Contract.objects.filter(
        search.matching(Contract, ContractFilterSet.search_fields, "acme")
    )
    plan = plan_of(queryset)
    assert "contract_search" in plan
    assert "supplier_search" in plan


def found(value: str, fields=ServiceFilterSet.search_fields) -> set[str]:
    condition = search.matching(Service, fields, value)
    return set(Service.objects.filter(condition).values_list("name", flat=True))


def test_search_finds_a_substring_of_any_field_in_any_case():
    ServiceFactory(name="Claims Handling", summary="", external_id="")
    ServiceFactory(name="Payments", summary="Settles CLAIMS in bulk", external_id="")
    ServiceFactory(name="Ledger", summary="", source="cmdb", external_id="svc-claims-9")
    ServiceFactory(name="Unrelated", summary="Nothing here", external_id="")
    assert found("claims") == {"Claims Handling", "Payments", "Ledger"}
    assert found("laims hand") == {"Claims Handling"}
    assert found("ClAiMs") == {"Claims Handling", "Payments", "Ledger"}
    assert found("absent") == set()


def test_search_never_matches_across_two_fields():
    ServiceFactory(name="Alpha", summary="Beta", external_id="")
    assert found("Alpha") == {"Alpha"}
    # The document joins the fields; a match spanning the join is not a match.
    assert found("Alpha\nBeta") == set()
    assert found("alphabeta") == set()


def test_search_takes_wildcards_and_backslashes_literally():
    ServiceFactory(name="100% uptime", summary="", external_id="")
    ServiceFactory(name="1000 uptime", summary="", external_id="")
    ServiceFactory(name="snake_case", summary="", external_id="")
    ServiceFactory(name="snakeXcase", summary="", external_id="")
    ServiceFactory(name=r"back\slash", summary="", external_id="")
    assert found("100%") == {"100% uptime"}
    assert found("e_c") == {"snake_case"}
    assert found("k\\s") == {r"back\slash"}


def test_search_of_a_field_the_index_does_not_cover_still_finds_it():
    ServiceFactory(name="Alpha", summary="", criticality="critical", external_id="")
    assert not search.is_indexed(Service, ("criticality",))
    assert found("ritic", fields=("criticality",)) == {"Alpha"}


def test_search_through_a_foreign_key_finds_the_related_records_field():
    acme = SupplierFactory(name="Acme Hosting")
    other = SupplierFactory(name="Other")
    ContractFactory(supplier=acme, reference="C-1", title="Racks")
    ContractFactory(supplier=other, reference="C-2", title="Acme racks resold")
    ContractFactory(supplier=other, reference="C-3", title="Cables")
    condition = search.matching(Contract, ContractFilterSet.search_fields, "acme")
    assert set(Contract.objects.filter(condition).values_list("reference", flat=True)) == {
        "C-1",
        "C-2",
    }


def test_services_list_search_finds_what_it_did(client, viewer):
    client.force_login(viewer)
    ServiceFactory(name="Claims Handling", summary="", external_id="")
    ServiceFactory(name="Payments", summary="", external_id="")
    response = client.get(reverse("portfolio:service_list"), {"q": "claim"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Claims Handling" in page
    assert "Payments" not in page


def test_both_searches_follow_a_records_changes(portfolio_manager):
    """The document and the words are columns PostgreSQL writes with the record: a renamed
    service is found by its new name and no longer by its old one, by either search."""

    def headed(text: str) -> set[str]:
        return {hit.title for group in finder.find(portfolio_manager, text) for hit in group.hits}

    service = ServiceFactory(name="Harbour billing", slug="svc-1", summary="", external_id="")
    assert headed("harbour") == {"Harbour billing"}
    service.name = "Quayside billing"
    service.save()
    assert found("harbour") == set()
    assert found("quays") == {"Quayside billing"}
    assert headed("harbour") == set()
    assert headed("quay bill") == {"Quayside billing"}
    Service.objects.filter(pk=service.pk).update(summary="Moved from the harbour")
    assert found("harbour") == {"Quayside billing"}
    assert headed("harbour") == {"Quayside billing"}


def test_people_are_searched_by_their_stored_document_too():
    people = get_user_model().objects
    person = people.create(username="wkemp", first_name="Walter")
    person.first_name = "Wilhelmina"
    person.save()

    def named(text: str) -> set[str]:
        condition = search.matching(people.model, PersonFilterSet.search_fields, text)
        return set(people.filter(condition).values_list("username", flat=True))

    assert named("walter") == set()
    assert named("WILHEL") == {"wkemp"}
