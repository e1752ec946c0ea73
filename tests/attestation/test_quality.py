"""Data-quality scores against a hand count, the steward's page and exports, the API's
fields and the daily snapshot."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from attestation import quality
from attestation import services
from attestation.models import QualitySnapshot
from core.choices import Channel
from core.context import change_context
from finance import services as finance_services
from portfolio.choices import Aspect
from portfolio.models import Service
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.portfolio import SupplierFactory
from tests.factories.valuestreams import StageServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_services():
    """Five services, each meeting a different set of criteria (see the hand count)."""
    alice = UserFactory(username="alice", role="Service owner")
    gone = UserFactory(username="gone", is_active=False)
    bare = ServiceFactory(name="Bare")
    owned = ServiceFactory(name="Owned", owner=alice)
    specified = ServiceFactory(name="Specified", owner=alice)
    for aspect in Aspect.values:
        SpecificationItemFactory(service=specified, aspect=aspect)
        SpecificationItemFactory(service=specified, aspect=aspect, functioning=True)
    StageServiceFactory(service=specified)
    customer = ServiceFactory(name="Customer", owner=gone)
    OutcomeFactory(subscription=SubscriptionFactory(service=customer), agreement="agreed")
    broken = ServiceFactory(name="Broken", owner=alice)
    march = PeriodFactory(year=2025, month=3)
    CostItemFactory(period=march, service=broken, amount=Decimal("100.00"))
    finance_services.recompute_tco(period=march)
    for service in (owned, specified, broken):
        services.attest(record=service, user=alice)
    manager = UserFactory(username="pat", role="Portfolio manager")
    broken = Service.objects.get(pk=broken.pk)
    broken.summary = "Changed by the portfolio manager"
    with change_context(user=manager, channel=Channel.WEB):
        broken.save()
    return {s.name: s for s in (bare, owned, specified, customer, broken)}


# Weights: quadrants 20, functioning fresh 15 (with functioning items), owner active 15,
# outcomes agreed 10 (with customers), TCO complete 15, in a value stream 10, attested 10,
# no check needed 5.
HAND_COUNT = {
    # Never attested, so no check is needed: 5 of 75.
    "Bare": (5, 75, 7),
    # Owner, attested, no check needed: 30 of 75.
    "Owned": (30, 75, 40),
    # Four quadrants, owner, value stream, attested, no check; functioning not measured: 60 of 90.
    "Specified": (60, 90, 67),
    # Inactive owner; its one outcome agreed; no check needed: 15 of 85.
    "Customer": (15, 85, 18),
    # Owner, TCO above zero, attested but changed since by someone else: 40 of 75.
    "Broken": (40, 75, 53),
}


def test_scores_match_a_hand_count_on_five_services(five_services):
    today = timezone.localdate()
    scores = quality.service_scores(today)
    for name, (earned, possible, score) in HAND_COUNT.items():
        assert round(Decimal(100 * earned) / possible) == score
        assert scores[five_services[name].pk] == score, name
        page_score, checks = quality.checks_of(five_services[name], today)
        assert page_score == score
        assert sum(c.criterion.weight for c in checks if c.applies) == possible, name
        assert sum(c.criterion.weight for c in checks if c.met) == earned, name


def test_the_api_shows_attestation_and_score(five_services, api_for):
    viewer = UserFactory(username="vera", role="Viewer")
    response = api_for(viewer, write=False).get("/api/v1/services/")
    assert response.status_code == 200
    by_name = {row["name"]: row for row in response.json()["results"]}
    assert by_name["Broken"]["attestation_status"] == "check_needed"
    assert by_name["Bare"]["attestation_status"] == "never_attested"
    assert by_name["Owned"]["attested_at"] is not None
    assert {name: row["quality_score"] for name, row in by_name.items()} == {
        name: score for name, (_, _, score) in HAND_COUNT.items()
    }
    for resource in ("applications", "contracts", "value-streams"):
        listed = api_for(viewer, write=False).get(f"/api/v1/{resource}/")
        assert listed.status_code == 200, resource


def test_the_steward_page_and_its_exports_are_for_portfolio_managers(client, five_services):
    services.record_quality_snapshot()
    manager = UserFactory(username="pm", role="Portfolio manager")
    client.force_login(manager)
    page = client.get(reverse("attestation:steward"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Broken" in text and "Check needed" in text
    csv = client.get(reverse("attestation:steward"), {"export": "csv"})
    assert csv.status_code == 200
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Kind,Name,Owner,Unit,Score")
    assert any(line.startswith("service,Bare,,,7,") for line in lines)
    xlsx = client.get(reverse("attestation:steward"), {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    client.logout()
    viewer = UserFactory(username="vera", role="Viewer")
    client.force_login(viewer)
    assert client.get(reverse("attestation:steward")).status_code == 403


def test_scores_by_unit_include_the_sub_units_records(client, five_services):
    # IT > Apps > Team, and a unit without records; a contract counts in its supplier's unit.
    it = OrganisationUnitFactory(name="IT")
    apps = OrganisationUnitFactory(name="Apps", parent=it)
    team = OrganisationUnitFactory(name="Team", parent=apps)
    OrganisationUnitFactory(name="Empty")
    Service.objects.filter(pk=five_services["Bare"].pk).update(unit=team)
    Service.objects.filter(pk=five_services["Owned"].pk).update(unit=apps)
    Service.objects.filter(pk=five_services["Specified"].pk).update(unit=it)
    # No owner, covers nothing, never attested: no check needed, 5 of 40 = 12.5, so 13.
    ContractFactory(supplier=SupplierFactory(unit=apps))
    portfolio = quality.portfolio_score(timezone.localdate())
    assert [
        (u.path, u.records, u.own_records, u.score) for u in quality.unit_scores(portfolio.rows)
    ] == [
        ("IT", 4, 1, Decimal("31.75")),  # 7, 40, 13 and 67
        ("IT › Apps", 3, 2, Decimal("20.00")),  # 7, 40 and 13
        ("IT › Apps › Team", 1, 1, Decimal("7.00")),
    ]
    client.force_login(UserFactory(username="pm", role="Portfolio manager"))
    page = client.get(reverse("attestation:steward")).content.decode()
    assert "IT › Apps › Team" in page and "Empty" not in page
    by_unit = client.get(reverse("attestation:steward"), {"export": "csv", "of": "units"})
    lines = by_unit.content.decode().splitlines()
    assert lines[0] == "Unit,Records (with sub-units),Records of its own,Score"
    assert "IT › Apps,3,2,20.00" in lines
    xlsx = client.get(reverse("attestation:steward"), {"export": "xlsx", "of": "units"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    records = client.get(reverse("attestation:steward"), {"export": "csv"})
    assert "service,Bare,,Team,7," in records.content.decode()


def test_the_daily_snapshot_keeps_one_row_a_day(five_services):
    first = services.record_quality_snapshot()
    again = services.record_quality_snapshot()
    assert first.pk == again.pk
    assert QualitySnapshot.objects.count() == 1
    # The five services and the value stream the stage of "Specified" belongs to.
    assert again.by_kind["service"] == {"records": 5, "score": "37.00"}
    assert again.records == 6


def test_the_owner_confirms_from_the_service_page(client, five_services):
    broken = five_services["Broken"]
    client.force_login(broken.owner)
    page = client.get(broken.get_absolute_url())
    assert "Check needed" in page.content.decode()
    assert "Confirm as correct" in page.content.decode()
    response = client.post(reverse("attestation:confirm", args=["service", broken.pk]))
    assert response.status_code == 302
    # Attested again with no check needed: 45 of 75.
    assert quality.checks_of(broken, timezone.localdate())[0] == 60
    client.logout()
    client.force_login(UserFactory(username="pam", role="Portfolio manager"))
    refused = client.post(reverse("attestation:confirm", args=["service", broken.pk]))
    assert refused.status_code == 403


def test_application_contract_and_value_stream_pages_show_their_quality(client):
    from tests.factories.portfolio import ApplicationFactory
    from tests.factories.portfolio import ContractFactory
    from tests.factories.valuestreams import ValueStreamFactory

    owner = UserFactory(username="olga", role="Portfolio manager")
    records = [
        ApplicationFactory(owner=owner),
        ContractFactory(owner=owner),
        ValueStreamFactory(owner=owner),
    ]
    client.force_login(owner)
    for record in records:
        page = client.get(record.get_absolute_url())
        assert page.status_code == 200, record
        text = page.content.decode()
        assert "Data quality" in text and "Never attested" in text, record
        kind = record._meta.model_name
        confirm = client.post(reverse("attestation:confirm", args=[kind, record.pk]))
        assert confirm.status_code == 302
        assert "Attested" in client.get(record.get_absolute_url()).content.decode()


def test_the_steward_page_makes_as_many_queries_for_many_records_as_for_one(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager = UserFactory(username="pm", role="Portfolio manager")
    client.force_login(manager)
    owner = UserFactory(username="olga", role="Service owner")
    ServiceFactory(owner=owner)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("attestation:steward")).status_code == 200
    for index in range(20):
        service = ServiceFactory(owner=UserFactory(username=f"owner-{index}"))
        SpecificationItemFactory(service=service, functioning=True)
        services.attest(record=service, user=service.owner)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("attestation:steward")).status_code == 200
    assert len(many) == len(one)


def test_the_daily_snapshot_is_scheduled_and_runs_as_a_task(five_services):
    from django_celery_beat.models import PeriodicTask

    from attestation.tasks import record_quality_snapshot

    scheduled = PeriodicTask.objects.get(name="attestation: daily data-quality snapshot")
    assert scheduled.task == "attestation.tasks.record_quality_snapshot"
    pk = record_quality_snapshot.apply().get()
    assert QualitySnapshot.objects.get(pk=pk).taken_on == timezone.localdate()


def test_the_steward_page_names_records_in_the_readers_language(client, settings):
    settings.PORTICO_LANGUAGES = ["en", "fr"]
    settings.LANGUAGES = [("en", "English"), ("fr", "français")]
    ServiceFactory(name="Claims", translations={"fr": {"name": "Sinistres"}})
    ServiceFactory(name="Payroll")
    client.force_login(UserFactory(username="pm", role="Portfolio manager"))
    french = client.get(reverse("attestation:steward"), headers={"accept-language": "fr"})
    text = french.content.decode()
    assert "Sinistres" in text and "Payroll" in text and ">Claims<" not in text
    english = client.get(reverse("attestation:steward"), headers={"accept-language": "en"})
    assert "Claims" in english.content.decode() and "Sinistres" not in english.content.decode()
