"""The maturity resources (parties, assessments, balance self-assessments): round trips, sync,
refusals named by field, the same rules and rights as the Maturity pages, and query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.choices import ChangeAction
from core.choices import Channel
from maturity import selectors
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import Party
from maturity.questionnaire import answers_for_level
from maturity.questionnaire import statements_for
from tests.api.helpers import changes_of
from tests.api.helpers import outcomes
from tests.api.helpers import sync
from tests.api.helpers import sync_counting_queries
from tests.factories.maturity import AssessmentFactory
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory
from tests.factories.maturity import ProviderUnitFactory
from tests.factories.maturity import SelfAssessmentFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import CustomerFactory

pytestmark = pytest.mark.django_db

ON = "2025-01-15"
PARTIES = "/api/v1/parties/"
ASSESSMENTS = "/api/v1/assessments/"
SELF_ASSESSMENTS = "/api/v1/balance-self-assessments/"


def assessment_body(party: Party, answering: int, **extra) -> dict:
    """A new assessment of ``party`` whose answers give the level ``answering``."""
    return {
        "party": party.pk,
        "assessed_on": ON,
        "answers": answers_for_level(party.kind, answering),
        **extra,
    }


def tomorrow() -> str:
    return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


@pytest.fixture
def managed(service_owner):
    """A customer whose relationship manager is the service owner, and its party."""
    customer = CustomerFactory(
        name="Claims Division", relationship_manager=service_owner, source="crm", external_id="C1"
    )
    return CustomerPartyFactory(customer=customer)


@pytest.fixture
def elsewhere(other_owner):
    return CustomerPartyFactory(
        customer=CustomerFactory(name="Fleet Operators", relationship_manager=other_owner)
    )


# --- Parties ------------------------------------------------------------------------------------


def test_parties_round_trip_the_organisation_a_unit_and_a_customer(pm_api):
    org = pm_api.post(PARTIES, {"kind": "provider"})
    assert org.status_code == 201, org.json()
    assert org.json()["unit"] is None and org.json()["latest_level"] is None
    claims_it = OrganisationUnitFactory(name="Claims IT", source="hr", external_id="U-7")
    unit = pm_api.post(
        PARTIES, {"kind": "provider", "unit": {"external_id": "U-7", "source": "hr"}}
    ).json()
    assert unit["unit"] == {"id": claims_it.pk, "source": "hr", "external_id": "U-7"}
    assert str(Party.objects.get(pk=unit["id"])) == "Claims IT"
    listed = pm_api.get(PARTIES, unit=claims_it.slug).json()["results"]
    assert [p["id"] for p in listed] == [unit["id"]]
    customer = CustomerFactory(source="crm", external_id="C-9")
    created = pm_api.post(
        PARTIES,
        {
            "kind": "customer",
            "customer": {"external_id": "C-9", "source": "crm"},
            "served_by": unit["id"],
            "source": "crm",
            "external_id": "P-9",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["customer"] == {"id": customer.pk, "source": "crm", "external_id": "C-9"}
    assert body["served_by"] == {"id": unit["id"], "source": "", "external_id": ""}
    assert created["Location"] == f"{PARTIES}{body['id']}/"
    detail = pm_api.get(f"{PARTIES}{body['id']}/")
    assert detail.json() == body and detail["ETag"] == created["ETag"]
    changed = pm_api.patch(
        f"{PARTIES}{body['id']}/", {"served_by": None}, headers={"If-Match": detail["ETag"]}
    )
    assert changed.status_code == 200 and changed.json()["served_by"] is None
    stale = pm_api.patch(
        f"{PARTIES}{body['id']}/", {"served_by": unit["id"]}, headers={"If-Match": detail["ETag"]}
    )
    assert stale.status_code == 412
    assert Party.objects.get(pk=body["id"]).served_by is None


def test_party_rules_are_refused_by_field(pm_api):
    org = OrganisationFactory()
    unit = ProviderUnitFactory(unit__name="Claims IT")
    gone = ProviderUnitFactory(unit__name="Old IT", retired_at=timezone.now())
    old_desk = OrganisationUnitFactory(name="Old desk", retired_at=timezone.now())
    party = CustomerPartyFactory()
    party_url, unit_url = f"{PARTIES}{party.pk}/", f"{PARTIES}{unit.pk}/"
    cases = [
        (PARTIES, "post", {"kind": "provider"}, {
            "unit": [f"The provider as a whole is party {org.pk} already."]}),
        (PARTIES, "post", {"kind": "provider", "unit": unit.unit_id}, {
            "unit": [f"This organisation unit is assessed already: party {unit.pk}."]}),
        (PARTIES, "post", {"kind": "provider", "unit": old_desk.pk}, {
            "unit": ["Old desk is retired: choose a unit in use."]}),
        (PARTIES, "post", {"kind": "provider", "unit": "claims-it"}, {
            "unit": ['Expected a record id or {"external_id": "…", "source": "…"}.']}),
        (PARTIES, "post", {"kind": "customer", "customer": CustomerFactory().pk,
                           "unit": old_desk.pk}, {
            "unit": ["Only the provider has units."]}),
        (PARTIES, "post", {"kind": "customer", "customer": party.customer_id}, {
            "customer": [f"This customer has a party already: party {party.pk}."]}),
        (PARTIES, "post", {"kind": "customer"}, {
            "customer": ["Choose the customer assessed."]}),
        (party_url, "patch", {"served_by": org.pk}, {
            "served_by": ["Choose a unit of the provider."]}),
        (party_url, "patch", {"served_by": gone.pk}, {
            "served_by": ["Old IT is retired."]}),
        (party_url, "patch", {"kind": "provider"}, {
            "kind": ["A party keeps its kind: add a party of the other kind instead."]}),
        (party_url, "patch", {"customer": CustomerFactory().pk}, {
            "customer": ["A customer's party stays with its customer."]}),
        (unit_url, "patch", {"unit": None}, {
            "unit": ["A unit's party stays a unit's, and the provider as a whole has no unit."]}),
        (unit_url, "patch", {"served_by": unit.pk}, {
            "served_by": ["Only a customer is served by a unit."]}),
    ]  # fmt: skip
    for url, method, body, errors in cases:
        response = getattr(pm_api, method)(url, body)
        assert response.status_code == 400, (body, response.json())
        assert response.json()["errors"] == errors, body
    assert Party.objects.count() == 4


def test_removing_a_unit_retires_it_when_it_serves_and_hands_its_customers_over(pm_api):
    serving = ProviderUnitFactory()
    idle = ProviderUnitFactory()
    customer_party = CustomerPartyFactory(served_by=serving)
    retired = pm_api.delete(f"{PARTIES}{serving.pk}/")
    assert retired.status_code == 200 and retired.json()["retired_at"] is not None
    customer_party.refresh_from_db()
    assert customer_party.served_by is None
    assert pm_api.delete(f"{PARTIES}{idle.pk}/").status_code == 204
    assert not Party.objects.filter(pk=idle.pk).exists()


def test_party_shows_the_level_of_its_latest_assessment(pm_api):
    party = CustomerPartyFactory()
    AssessmentFactory(party=party, level=2, assessed_on=datetime.date(2025, 3, 1))
    AssessmentFactory(party=party, level=4, assessed_on=datetime.date(2024, 3, 1))
    row = pm_api.get(f"{PARTIES}{party.pk}/").json()
    assert (row["latest_level"], row["latest_assessed_on"]) == (2, "2025-03-01")
    assert row["latest_level"] == selectors.latest_assessments()[party.pk].level


# --- Assessments --------------------------------------------------------------------------------


def test_assessment_round_trip_computes_the_level_and_keeps_an_override_with_its_reason(
    pm_api,
):
    org = OrganisationFactory()
    created = pm_api.post(ASSESSMENTS, assessment_body(org, 2, note=" First. "))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["computed_level"], body["override_level"], body["level"]) == (2, None, 2)
    assert body["answers"] == answers_for_level("provider", 2)
    assert (body["assessor"], body["note"], body["party"]["id"]) == ("pm", "First.", org.pk)
    url = f"{ASSESSMENTS}{body['id']}/"
    overridden = pm_api.patch(url, {"override_level": 4, "override_reason": "Catalogue live."})
    assert (overridden.json()["computed_level"], overridden.json()["level"]) == (2, 4)
    # Answers that give the override's level: the override is no override any more.
    agreed = pm_api.patch(url, {"answers": answers_for_level("provider", 4)}).json()
    assert (agreed["computed_level"], agreed["override_level"], agreed["level"]) == (4, None, 4)
    assert agreed["override_reason"] == ""
    assert pm_api.get(url).json() == agreed
    replaced = pm_api.put(url, assessment_body(org, 1))
    assert replaced.status_code == 200 and replaced.json()["level"] == 1
    assert pm_api.delete(url).status_code == 204
    assert not Assessment.objects.exists()
    assert [c.channel for c in changes_of(Assessment)] == [Channel.API] * 5


def test_assessment_levels_are_read_only(pm_api):
    org = OrganisationFactory()
    response = pm_api.post(
        ASSESSMENTS, assessment_body(org, 2, level=5, computed_level=5, assessor="pm")
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        name: ["This field is read-only."] for name in ("level", "computed_level", "assessor")
    }


def provider_answers(**changes) -> dict:
    answers = answers_for_level("provider", 3)
    for code, points in changes.items():
        if points is None:
            del answers[code]
        else:
            answers[code] = points
    return answers


MISSING = ["Not answered: answer with 0 (No), 1 (Partly) or 2 (Yes) points."]
POINTS = ["Answer with 0 (No), 1 (Partly) or 2 (Yes) points."]
BAD_ANSWERS = [
    (provider_answers(p3b=None), {"answers.p3b": MISSING}),
    (provider_answers(p1a=3), {"answers.p1a": POINTS}),
    (provider_answers(p1a=-1, p2a="2"), {"answers.p1a": POINTS, "answers.p2a": POINTS}),
    (provider_answers(p1a=True, p1b=1.5), {"answers.p1a": POINTS, "answers.p1b": POINTS}),
    (provider_answers(p1a=[2]), {"answers.p1a": POINTS}),
    (
        provider_answers(XYZ=2, c1a=1),
        {
            "answers.XYZ": ["Not a statement of the provider questionnaire."],
            "answers.c1a": ["Not a statement of the provider questionnaire."],
        },
    ),
    ([2, 2, 2], {"answers": ["Give the answers as an object: statement code → 0, 1 or 2 points."]}),
    ({}, {f"answers.{s.code}": MISSING for s in statements_for("provider")}),
]


@pytest.mark.parametrize(("answers", "errors"), BAD_ANSWERS)
def test_bad_answers_are_refused_naming_each_statement(pm_api, answers, errors):
    org = OrganisationFactory()
    single = pm_api.post(ASSESSMENTS, {**assessment_body(org, 3), "answers": answers})
    assert single.status_code == 400 and single.json()["errors"] == errors
    item = {**assessment_body(org, 3), "answers": answers, "external_id": "a"}
    batch = sync(pm_api, "assessments", [item])
    assert batch.status_code == 400
    assert batch.json()["errors"] == {f"items.0.{k}": v for k, v in errors.items()}
    assert not Assessment.objects.exists()


def test_missing_answers_are_refused_and_an_existing_assessment_keeps_its_own(pm_api):
    org = OrganisationFactory()
    assert pm_api.post(ASSESSMENTS, {"party": org.pk, "assessed_on": ON}).status_code == 400
    assessment = AssessmentFactory(party=org, level=3)
    response = pm_api.patch(f"{ASSESSMENTS}{assessment.pk}/", {"answers": {"p1a": 2}})
    assert response.status_code == 400 and "answers.p5b" in response.json()["errors"]
    assessment.refresh_from_db()
    assert assessment.answers == answers_for_level("provider", 3)


def retired_customer_party():
    return CustomerPartyFactory(retired_at=timezone.now())


# Each: (resource, a party maker, the item, the errors by field) sent alone and in a batch.
PARITY = [
    (
        "assessments",
        OrganisationFactory,
        lambda p: assessment_body(p, 2, override_level=4, override_reason="  "),
        {"override_reason": ["Give the reason for overriding the level of the answers."]},
    ),
    (
        "assessments",
        OrganisationFactory,
        lambda p: assessment_body(p, 2, override_level=7),
        {"override_level": ["Choose a level from 1 to 5."]},
    ),
    (
        "assessments",
        CustomerPartyFactory,
        lambda p: assessment_body(p, 3, assessed_on=tomorrow(), answers={"c1a": 2}),
        {
            "assessed_on": ["An assessment cannot be dated in the future."],
            **{f"answers.{s.code}": MISSING for s in statements_for("customer")[1:]},
        },
    ),
    (
        "assessments",
        retired_customer_party,
        lambda p: assessment_body(p, 3),
        lambda p: {"party": [f"{p} is retired and is no longer assessed."]},
    ),
    (
        "balance-self-assessments",
        lambda: None,
        lambda _: {
            "assessed_on": tomorrow(),
            "customer_focus": 101,
            "process_orientation": 10,
            "cost_optimisation": 10,
        },
        {"customer_focus": ["Ensure this value is less than or equal to 100."]},
    ),
    (
        "balance-self-assessments",
        lambda: None,
        lambda _: {
            "assessed_on": tomorrow(),
            "customer_focus": 10,
            "process_orientation": 10,
            "cost_optimisation": 10,
        },
        {"assessed_on": ["A self-assessment cannot be dated in the future."]},
    ),
    (
        "parties",
        lambda: ProviderUnitFactory(unit__name="Old IT", retired_at=timezone.now()),
        lambda unit: {"kind": "customer", "customer": CustomerFactory().pk, "served_by": unit.pk},
        {"served_by": ["Old IT is retired."]},
    ),
    (
        "parties",
        lambda: ProviderUnitFactory(unit__name="Claims IT"),
        lambda unit: {"kind": "provider", "unit": unit.unit_id},
        lambda unit: {"unit": [f"This organisation unit is assessed already: party {unit.pk}."]},
    ),
    (
        "parties",
        lambda: OrganisationUnitFactory(name="Old desk", retired_at=timezone.now()),
        lambda unit: {"kind": "provider", "unit": unit.pk},
        {"unit": ["Old desk is retired: choose a unit in use."]},
    ),
    (
        "parties",
        lambda: OrganisationUnitFactory(),
        lambda unit: {"kind": "customer", "customer": CustomerFactory().pk, "unit": unit.pk},
        {"unit": ["Only the provider has units."]},
    ),
]


@pytest.mark.parametrize(
    ("resource", "make", "body", "errors"),
    PARITY,
    ids=[f"{case[0]}-{n}" for n, case in enumerate(PARITY)],
)
def test_single_write_and_sync_refuse_a_bad_record_alike(pm_api, resource, make, body, errors):
    made = make()
    body = body(made)
    errors = errors(made) if callable(errors) else errors
    model = {"assessments": Assessment, "parties": Party}.get(resource, BalanceSelfAssessment)
    before = model.objects.count()
    single = pm_api.post(f"/api/v1/{resource}/", body)
    assert single.status_code == 400, single.json()
    assert single.json()["errors"] == errors
    batch = sync(pm_api, resource, [{**body, "external_id": "new"}])
    assert batch.status_code == 400, batch.json()
    assert batch.json()["errors"] == {f"items.0.{k}": v for k, v in errors.items()}
    assert model.objects.count() == before


def test_an_assessment_stays_with_its_party(pm_api):
    assessment = AssessmentFactory(source="cmdb", external_id="a1")
    other = CustomerPartyFactory()
    moved = pm_api.patch(f"{ASSESSMENTS}{assessment.pk}/", {"party": other.pk})
    message = ["An assessment stays with its party: record a new one for the other party."]
    assert moved.status_code == 400 and moved.json()["errors"] == {"party": message}
    batch = sync(pm_api, "assessments", [{"external_id": "a1", "party": other.pk}])
    assert batch.status_code == 400 and batch.json()["errors"] == {"items.0.party": message}
    assessment.refresh_from_db()
    assert assessment.party_id != other.pk


def test_assessment_filters(pm_api):
    org = OrganisationFactory()
    customer = CustomerPartyFactory(customer=CustomerFactory(name="Harbour Board"))
    AssessmentFactory(party=org, level=2)
    wanted = AssessmentFactory(party=customer, level=4, note="After the workshop")
    for params in (
        {"party": customer.pk},
        {"kind": "customer"},
        {"level": "4"},
        {"q": "harbour"},
        {"q": "workshop", "assessed_from": "2025-01-01", "assessed_until": "2025-01-31"},
    ):
        rows = pm_api.get(ASSESSMENTS, **params).json()["results"]
        assert [r["id"] for r in rows] == [wanted.pk], params
    assert pm_api.get(ASSESSMENTS, level="9").status_code == 400
    assert pm_api.get(ASSESSMENTS, overridden="true").json()["results"] == []


# --- Sync ---------------------------------------------------------------------------------------


def test_sync_parties_upsert_resend_and_full(pm_api):
    CustomerFactory(source="cmdb", external_id="cust-1")
    for key, name in (("a", "Claims IT"), ("b", "Fleet IT"), ("c", "Hosting")):
        OrganisationUnitFactory(name=name, source="cmdb", external_id=f"ou-{key}")
    items = [
        {"external_id": "org", "kind": "provider"},
        {"external_id": "unit-a", "kind": "provider", "unit": {"external_id": "ou-a"}},
        {"external_id": "unit-b", "kind": "provider", "unit": {"external_id": "ou-b"}},
        {"external_id": "unit-c", "kind": "provider", "unit": {"external_id": "ou-c"}},
        {
            "external_id": "p-1",
            "kind": "customer",
            "customer": {"external_id": "cust-1"},
            "served_by": {"external_id": "unit-a"},
        },
    ]
    first = sync(pm_api, "parties", items[:4])
    assert first.status_code == 200 and first.json()["created"] == 4
    second = sync(pm_api, "parties", items)
    assert outcomes(second) == ["unchanged"] * 4 + ["created"]
    logged = changes_of(Party).count()
    again = sync(pm_api, "parties", items)
    assert outcomes(again) == ["unchanged"] * 5 and changes_of(Party).count() == logged
    # The source no longer has the unit serving the customer: it is retired, and the
    # customer is served by the provider as a whole.
    customer_item = {k: v for k, v in items[4].items() if k != "served_by"}
    full = sync(pm_api, "parties", [items[0], *items[2:4], customer_item], mode="full")
    assert full.status_code == 200, full.json()
    assert [r["key"]["external_id"] for r in full.json()["retirements"]] == ["unit-a"]
    assert Party.objects.get(external_id="unit-a").is_retired
    assert Party.objects.get(external_id="p-1").served_by is None
    # Sent again, the unit is back, and may serve the customer again in the same batch.
    back = sync(pm_api, "parties", items)
    assert back.status_code == 200, back.json()
    assert outcomes(back) == ["unchanged", "updated", "unchanged", "unchanged", "updated"]
    assert str(Party.objects.get(external_id="p-1").served_by) == "Claims IT"


def test_sync_parties_refuses_duplicates_within_the_batch(pm_api):
    customer = CustomerFactory()
    unit = OrganisationUnitFactory(name="Claims IT")
    items = [
        {"external_id": "a", "kind": "provider", "unit": unit.pk},
        {"external_id": "b", "kind": "provider", "unit": unit.pk},
        {"external_id": "c", "kind": "customer", "customer": customer.pk},
        {"external_id": "d", "kind": "customer", "customer": customer.pk},
    ]
    response = sync(pm_api, "parties", items)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "items.1.unit": ["Item 0 has the same organisation unit."],
        "items.3.customer": ["Item 2 is the party of the same customer."],
    }


def test_sync_assessments_upsert_resend_change_and_full(pm_api, portfolio_manager):
    org = OrganisationFactory(source="cmdb", external_id="org")
    customer = CustomerPartyFactory(source="cmdb", external_id="p-1")
    items = [
        {"external_id": "a-1", "party": {"external_id": "org"}, "assessed_on": ON,
         "answers": answers_for_level("provider", 2)},
        {"external_id": "a-2", "party": {"external_id": "p-1"}, "assessed_on": ON,
         "answers": answers_for_level("customer", 4), "override_level": 5,
         "override_reason": "Board decision."},
        {"external_id": "a-3", "party": {"external_id": "p-1"}, "assessed_on": "2024-06-01",
         "answers": answers_for_level("customer", 1)},
    ]  # fmt: skip
    first = sync(pm_api, "assessments", items)
    assert first.status_code == 200, first.json()
    assert first.json()["created"] == 3
    stored = {a.external_id: a for a in Assessment.objects.all()}
    assert (stored["a-1"].computed_level, stored["a-1"].level) == (2, 2)
    assert (stored["a-2"].computed_level, stored["a-2"].level) == (4, 5)
    assert stored["a-2"].assessor == portfolio_manager
    assert selectors.latest_assessments()[customer.pk].external_id == "a-2"
    assert outcomes(sync(pm_api, "assessments", items)) == ["unchanged"] * 3
    # Partial items: the answers change, the stored override stays (5 is not the new level).
    changed = sync(
        pm_api,
        "assessments",
        [
            {"external_id": "a-1", "answers": answers_for_level("provider", 3)},
            {"external_id": "a-2", "answers": answers_for_level("customer", 5)},
        ],
    )
    assert outcomes(changed) == ["updated", "updated"]
    stored = {a.external_id: a for a in Assessment.objects.all()}
    assert (stored["a-1"].computed_level, stored["a-1"].level) == (3, 3)
    # The answers now give the override's level: it is no override any more.
    assert (stored["a-2"].computed_level, stored["a-2"].override_level) == (5, None)
    assert stored["a-2"].override_reason == "" and stored["a-2"].level == 5
    full = sync(pm_api, "assessments", items[:2], mode="full", allow_mass_retire=True)
    assert full.json()["retirements"][0]["outcome"] == "deleted"
    assert set(Assessment.objects.values_list("external_id", flat=True)) == {"a-1", "a-2"}
    assert changes_of(Assessment).last().channel == Channel.SYNC
    assert org.assessments.count() == 1


def test_sync_self_assessments_upsert_and_full(pm_api, portfolio_manager):
    def item(n, score=60):
        return {
            "external_id": f"s-{n}",
            "assessed_on": ON,
            "customer_focus": score,
            "process_orientation": 50,
            "cost_optimisation": 40,
        }

    assert sync(pm_api, "balance-self-assessments", [item(1), item(2)]).json()["created"] == 2
    assert BalanceSelfAssessment.objects.get(external_id="s-1").assessor == portfolio_manager
    again = sync(pm_api, "balance-self-assessments", [item(1), item(2, score=70)])
    assert outcomes(again) == ["unchanged", "updated"]
    full = sync(
        pm_api, "balance-self-assessments", [item(2, score=70)], mode="full", allow_mass_retire=True
    )
    assert full.json()["deleted"] == 1
    assert list(BalanceSelfAssessment.objects.values_list("external_id", flat=True)) == ["s-2"]


def test_self_assessment_round_trip(pm_api):
    body = {
        "assessed_on": ON,
        "customer_focus": 70,
        "process_orientation": 65,
        "cost_optimisation": 20,
        "note": "Workshop",
    }
    created = pm_api.post(SELF_ASSESSMENTS, body)
    assert created.status_code == 201, created.json()
    assert created.json()["assessor"] == "pm"
    url = f"{SELF_ASSESSMENTS}{created.json()['id']}/"
    assert pm_api.patch(url, {"cost_optimisation": 30}).json()["cost_optimisation"] == 30
    assert selectors.latest_self_assessment().cost_optimisation == 30
    assert pm_api.delete(url).status_code == 204


# --- Rights -------------------------------------------------------------------------------------


def test_relationship_manager_assesses_their_own_customer_only(
    api_for, managed, elsewhere, service_owner
):
    org = OrganisationFactory()
    api = api_for(service_owner)
    own = api.post(ASSESSMENTS, assessment_body(managed, 3))
    assert own.status_code == 201, own.json()
    assert api.post(ASSESSMENTS, assessment_body(elsewhere, 3)).status_code == 403
    assert api.post(ASSESSMENTS, assessment_body(org, 3)).status_code == 403
    url = f"{ASSESSMENTS}{own.json()['id']}/"
    assert api.patch(url, {"note": "Checked"}).status_code == 200
    assert api.delete(url).status_code == 204
    theirs = AssessmentFactory(party=elsewhere)
    assert api.patch(f"{ASSESSMENTS}{theirs.pk}/", {"note": "x"}).status_code == 403
    assert api.delete(f"{ASSESSMENTS}{theirs.pk}/").status_code == 403
    assert Assessment.objects.filter(party=elsewhere).count() == 1


def test_relationship_manager_names_the_unit_serving_their_customer_only(
    api_for, managed, elsewhere, service_owner
):
    unit = ProviderUnitFactory()
    api = api_for(service_owner)
    assert api.patch(f"{PARTIES}{managed.pk}/", {"served_by": unit.pk}).status_code == 200
    assert api.patch(f"{PARTIES}{elsewhere.pk}/", {"served_by": unit.pk}).status_code == 403
    # Their customer's first party, as the Maturity page creates it with its first assessment.
    new_customer = CustomerFactory(relationship_manager=service_owner)
    added = api.post(PARTIES, {"kind": "customer", "customer": new_customer.pk})
    assert added.status_code == 201, added.json()
    mine = OrganisationUnitFactory(name="Mine")
    assert api.post(PARTIES, {"kind": "provider", "unit": mine.pk}).status_code == 403
    assert api.patch(f"{PARTIES}{unit.pk}/", {"unit": mine.pk}).status_code == 403
    assert api.post(SELF_ASSESSMENTS, {"assessed_on": ON, "customer_focus": 1,
                                       "process_orientation": 1, "cost_optimisation": 1}
                    ).status_code == 403  # fmt: skip


def test_sync_refuses_the_items_a_relationship_manager_may_not_write(
    api_for, managed, elsewhere, service_owner
):
    items = [
        {"external_id": "a", **assessment_body(managed, 2)},
        {"external_id": "b", **assessment_body(elsewhere, 2)},
    ]
    response = sync(api_for(service_owner), "assessments", items)
    assert response.status_code == 403
    assert list(response.json()["errors"]) == ["items.1"]
    assert not Assessment.objects.exists()
    assert sync(api_for(service_owner), "assessments", items[:1]).status_code == 200


def test_viewer_and_read_only_token_only_read(api_for, viewer, portfolio_manager, managed):
    assessment = AssessmentFactory(party=managed)
    unit = OrganisationUnitFactory()
    for api in (api_for(viewer), api_for(portfolio_manager, write=False)):
        assert api.get(ASSESSMENTS).status_code == 200
        assert api.get(f"{PARTIES}{managed.pk}/").status_code == 200
        assert api.post(ASSESSMENTS, assessment_body(managed, 2)).status_code == 403
        assert api.patch(f"{ASSESSMENTS}{assessment.pk}/", {"note": "x"}).status_code == 403
        assert api.delete(f"{ASSESSMENTS}{assessment.pk}/").status_code == 403
        assert api.post(PARTIES, {"kind": "provider", "unit": unit.pk}).status_code == 403
        assert sync(api, "assessments", [{"external_id": "x", **assessment_body(managed, 2)}]
                    ).status_code == 403  # fmt: skip
    assert Assessment.objects.count() == 1 and Party.objects.count() == 1


# --- The same level as the browser ---------------------------------------------------------------


def test_an_assessment_through_the_api_reads_as_one_entered_in_the_browser(
    client, pm_api, portfolio_manager
):
    through_api = CustomerPartyFactory()
    in_browser = CustomerPartyFactory()
    answers = answers_for_level("customer", 2)
    override = {"override_level": 4, "override_reason": "Board decision."}
    response = pm_api.post(ASSESSMENTS, assessment_body(through_api, 2, **override))
    assert response.status_code == 201
    client.force_login(portfolio_manager)
    posted = client.post(
        reverse("maturity:assess_customer", args=[in_browser.customer.slug]),
        {"assessed_on": ON, **answers, **override},
    )
    assert posted.status_code == 302
    latest = selectors.latest_assessments()
    api_one, browser_one = latest[through_api.pk], latest[in_browser.pk]
    fields = ("answers", "computed_level", "override_level", "override_reason", "level")
    assert [getattr(api_one, f) for f in fields] == [getattr(browser_one, f) for f in fields]
    assert (api_one.level, api_one.computed_level) == (4, 2)
    page = client.get(reverse("maturity:customer", args=[through_api.customer.slug]))
    assert page.context["latest"].level == 4
    assert "The answers give level 2; overridden to 4" in page.content.decode()
    # Read back through the API, the browser's assessment shows the same levels.
    row = pm_api.get(f"{ASSESSMENTS}{browser_one.pk}/").json()
    assert (row["computed_level"], row["override_level"], row["level"]) == (2, 4, 4)


# --- Query counts -------------------------------------------------------------------------------


def customer_assessment():
    return AssessmentFactory(party=CustomerPartyFactory())


LIST_FACTORIES = {
    "parties": lambda: AssessmentFactory(party=CustomerPartyFactory()).party,
    "assessments": customer_assessment,
    "balance-self-assessments": SelfAssessmentFactory,
}


def assessment_items(parties, *, level: int) -> list[dict]:
    return [
        {
            "external_id": f"a-{party.pk}",
            "party": party.pk,
            "assessed_on": ON,
            "answers": answers_for_level("customer", level),
            "note": f"Assessment {n}",
        }
        for n, party in enumerate(parties)
    ]


def sync_queries(pm_api, resource, items) -> int:
    response, count = sync_counting_queries(pm_api, resource, items)
    assert response.status_code == 200, response.json()
    assert count <= 60
    return count


def test_sync_query_count_does_not_grow_with_the_batch(pm_api):
    parties = [CustomerPartyFactory(source="cmdb", external_id=f"p-{n}") for n in range(12)]
    # Every run below changes stored records (a run that also creates would count the same).
    assert sync(pm_api, "assessments", assessment_items(parties, level=1)).status_code == 200
    few = sync_queries(pm_api, "assessments", assessment_items(parties[:2], level=2))
    many = sync_queries(pm_api, "assessments", assessment_items(parties, level=3))
    assert many == few
    unit_items = [
        {"external_id": f"p-{n}", "served_by": {"external_id": "u"}, "kind": "customer"}
        for n in range(12)
    ]
    ProviderUnitFactory(source="cmdb", external_id="u")
    few = sync_queries(pm_api, "parties", unit_items[:2])
    many = sync_queries(pm_api, "parties", unit_items)
    assert many == few
    for n in range(24):
        OrganisationUnitFactory(source="cmdb", external_id=f"ou-{n}")
    provider_items = [
        {"external_id": f"u-{n}", "kind": "provider", "unit": {"external_id": f"ou-{n}"}}
        for n in range(12)
    ]
    assert sync(pm_api, "parties", provider_items).status_code == 200
    # Every provider unit moves to an organisation unit nobody assesses.
    moved = [
        {**item, "unit": {"external_id": f"ou-{n + 12}"}} for n, item in enumerate(provider_items)
    ]
    few = sync_queries(pm_api, "parties", moved[:2])
    many = sync_queries(pm_api, "parties", moved)
    assert many == few


def test_full_sync_deletions_are_named_without_a_query_per_record(pm_api):
    """A deleted assessment's name reads its party's customer: read once for all."""

    def deletion_queries(source: str, removed: int) -> int:
        parties = [CustomerPartyFactory() for _ in range(removed + 1)]
        items = assessment_items(parties, level=2)
        assert sync(pm_api, "assessments", items, source=source).status_code == 200
        doomed = {
            str(a.pk): str(a)
            for a in Assessment.objects.filter(source=source).exclude(
                external_id=items[0]["external_id"]
            )
        }
        response, count = sync_counting_queries(
            pm_api, "assessments", items[:1], source=source, mode="full", allow_mass_retire=True
        )
        assert response.json()["deleted"] == removed
        deletions = changes_of(Assessment, action=ChangeAction.DELETE, object_id__in=doomed)
        assert {c.object_id: c.object_repr for c in deletions} == doomed
        return count

    assert deletion_queries("cmdb-a", 2) == deletion_queries("cmdb-b", 10)


# --- Schema and feed ----------------------------------------------------------------------------


def test_schema_describes_the_answers_and_the_levels(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/v1/schema/").content)["components"]["schemas"]
    answers = schema["AssessmentWrite"]["properties"]["answers"]["oneOf"]
    assert [a["required"] for a in answers] == [
        [s.code for s in statements_for("provider")],
        [s.code for s in statements_for("customer")],
    ]
    assert all(a["additionalProperties"] is False for a in answers)
    assert answers[0]["properties"]["p1a"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 2,
        "description": "Level 1: " + statements_for("provider")[0].text,
    }
    level = schema["Assessment"]["properties"]["level"]
    assert (level["minimum"], level["maximum"], level["readOnly"]) == (1, 5, True)
    assert "level" not in schema["AssessmentWrite"]["properties"]
    assert schema["Party"]["properties"]["latest_level"]["readOnly"] is True


def test_assessments_appear_in_the_change_feed(pm_api):
    org = OrganisationFactory()
    created = pm_api.post(ASSESSMENTS, assessment_body(org, 3)).json()
    feed = pm_api.get("/api/v1/changes/", resource="assessments").json()["results"]
    assert [(c["event"], c["record"]["id"]) for c in feed] == [("created", created["id"])]
    assert feed[0]["after"]["level"] == 3 and feed[0]["user"] == "pm"
