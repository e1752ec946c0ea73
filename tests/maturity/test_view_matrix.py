"""Who may do what on the Maturity pages, and their queries: one spec per kind of record
(tests/views.py turns each into its cases). Every role reads; Portfolio managers assess every
party and keep the provider's units; a customer's relationship manager assesses that customer,
changes and removes its assessments, and names the unit serving it."""

import datetime

from core import roles
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import Party
from maturity.questionnaire import answers_for_level
from tests.factories.maturity import AssessmentFactory
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory
from tests.factories.maturity import ProviderUnitFactory
from tests.factories.maturity import populate
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import CustomerFactory
from tests.views import OWNER
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import gone
from tests.views import post
from tests.views import read
from tests.views import view_tests

ASSESSED_ON = "2025-01-15"


def questionnaire(kind: str, level: int) -> dict:
    return {"assessed_on": ASSESSED_ON, **answers_for_level(kind, level)}


# --- The pages of the whole organisation --------------------------------------------------------


def one_of_each(owner):
    populate(customers=1, rounds=1)


def many(record, owner):
    populate(customers=8, rounds=6)


def page_queries() -> Queries:
    return Queries(bound=40, make=one_of_each, populate=many, exact=True)


MATURITY_PAGES = ViewSpec(
    name="the Maturity overview, balance and provider pages",
    make=lambda owner: None,
    other_roles=(roles.FINANCE, roles.SERVICE_OWNER),
    actions={
        "overview": read("maturity:overview", args=lambda record: []),
        "balance": read("maturity:balance", args=lambda record: []),
        "provider": read("maturity:provider", args=lambda record: []),
    },
    queries={"overview": page_queries(), "balance": page_queries(), "provider": page_queries()},
)
test_maturity_page_views = view_tests(MATURITY_PAGES)


# --- A customer's maturity, by its relationship manager ----------------------------------------


def make_customer(owner):
    return CustomerFactory(relationship_manager=owner)


def assessed_by(customer, user):
    party = Party.objects.get(customer=customer)
    assert [(a.assessor, a.level) for a in party.assessments.all()] == [(user, 4)]


def served_by_the_unit(customer):
    assert str(Party.objects.get(customer=customer).served_by) == "Claims IT"


def customer_with_a_history(owner):
    customer = make_customer(owner)
    party = CustomerPartyFactory(customer=customer, served_by=ProviderUnitFactory())
    AssessmentFactory(party=party, level=2)
    return customer


def ten_more_assessments(customer, owner):
    party = Party.objects.get(customer=customer)
    for n in range(10):
        AssessmentFactory(party=party, level=1 + n % 5, assessed_on=datetime.date(2023, 1, 1 + n))


CUSTOMER_MATURITY = ViewSpec(
    name="a customer's maturity",
    make=make_customer,
    url_args=lambda customer: [customer.slug],
    owner_role=roles.SERVICE_OWNER,
    owner_may=("add",),
    label=lambda customer: customer.name,
    actions={
        "page": read("maturity:customer"),
        "assess": add(
            "maturity:assess_customer",
            args=lambda customer: [customer.slug],
            data=lambda customer: questionnaire("customer", 4),
            done=assessed_by,
            htmx=True,
            success=200,
            watch=(Assessment, Party),
        ),
        "serving-unit": post(
            "maturity:serving_unit",
            needs="add",
            data=lambda customer: {"served_by": ProviderUnitFactory(unit__name="Claims IT").pk},
            done=served_by_the_unit,
            htmx=True,
            success=200,
            watch=(Party,),
        ),
    },
    queries={
        "page": Queries(
            bound=40,
            make=customer_with_a_history,
            populate=ten_more_assessments,
            persona=OWNER,
            exact=True,
        ),
    },
)
test_customer_maturity_views = view_tests(CUSTOMER_MATURITY)


def make_customer_assessment(owner):
    party = CustomerPartyFactory(customer=make_customer(owner))
    return AssessmentFactory(party=party, level=2)


def level_four(assessment):
    assert fresh(assessment).level == 4


CUSTOMER_ASSESSMENT = ViewSpec(
    name="a customer's assessments",
    make=make_customer_assessment,
    owner_role=roles.SERVICE_OWNER,
    actions={
        "edit": edit(
            "maturity:assessment_edit",
            data=lambda assessment: questionnaire("customer", 4),
            done=level_four,
            htmx=True,
            success=200,
        ),
        "remove": delete("maturity:assessment_remove", htmx=True, success=200),
    },
)
test_customer_assessment_views = view_tests(CUSTOMER_ASSESSMENT)


# --- The provider: the whole organisation and its units ----------------------------------------


def organisation_at_level_three(record):
    organisation = Party.objects.get(kind=PartyKind.PROVIDER, unit__isnull=True)
    assert organisation.assessments.get().level == 3


PROVIDER = ViewSpec(
    name="the provider's first assessment",
    make=lambda owner: None,
    other_roles=(roles.SERVICE_OWNER,),
    actions={
        "assess": add(
            "maturity:assess_provider",
            data=lambda record: questionnaire("provider", 3),
            done=organisation_at_level_three,
            htmx=True,
            success=200,
            watch=(Assessment, Party),
        ),
    },
)
test_provider_views = view_tests(PROVIDER)


def level_one(assessment):
    assert fresh(assessment).level == 1


PROVIDER_ASSESSMENT = ViewSpec(
    name="the provider's assessments",
    make=lambda owner: AssessmentFactory(party=OrganisationFactory(), level=3),
    other_roles=(roles.SERVICE_OWNER,),
    actions={
        "edit": edit(
            "maturity:assessment_edit",
            data=lambda assessment: questionnaire("provider", 1),
            done=level_one,
            htmx=True,
            success=200,
        ),
        "remove": delete("maturity:assessment_remove", htmx=True, success=200),
    },
)
test_provider_assessment_views = view_tests(PROVIDER_ASSESSMENT)


def unit_added(unit):
    assert Party.objects.filter(kind=PartyKind.PROVIDER, unit__name="Fraud IT").exists()


def unit_moved(unit):
    assert str(fresh(unit)) == "Claims and Underwriting IT"


def unit_at_level_two(unit):
    assert [a.level for a in unit.assessments.all()] == [2]


UNIT = ViewSpec(
    name="provider units",
    make=lambda owner: ProviderUnitFactory(unit__name="Claims IT"),
    other_roles=(roles.SERVICE_OWNER,),
    label=lambda unit: unit.unit.name,
    actions={
        "page": read("maturity:unit"),
        "add": add(
            "maturity:unit_add",
            data=lambda unit: {"unit": OrganisationUnitFactory(name="Fraud IT").pk},
            done=unit_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "maturity:unit_edit",
            data=lambda unit: {
                "unit": OrganisationUnitFactory(name="Claims and Underwriting IT").pk
            },
            done=unit_moved,
            htmx=True,
            success=200,
        ),
        "delete": delete("maturity:unit_delete", htmx=True, success=200, done=gone),
        "assess": add(
            "maturity:assess_unit",
            args=lambda unit: [unit.pk],
            data=lambda unit: questionnaire("provider", 2),
            done=unit_at_level_two,
            htmx=True,
            success=200,
            watch=(Assessment,),
        ),
    },
)
test_unit_views = view_tests(UNIT)


def self_assessed_by(record, user):
    assert BalanceSelfAssessment.objects.get().assessor == user


SELF_ASSESSMENT = ViewSpec(
    name="the balance self-assessment",
    make=lambda owner: None,
    actions={
        "add": add(
            "maturity:self_assessment_add",
            data=lambda record: {
                "assessed_on": ASSESSED_ON,
                "customer_focus": 80,
                "process_orientation": 60,
                "cost_optimisation": 70,
            },
            done=self_assessed_by,
            htmx=True,
            success=200,
            watch=(BalanceSelfAssessment,),
        ),
    },
)
test_self_assessment_views = view_tests(SELF_ASSESSMENT)
