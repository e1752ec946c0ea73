"""The demo insurer's value maturity: a year of assessments of the provider, two of its units
and all eight customers, a self-assessment of the balance, and today's balance snapshot.

The story: the organisation grew from level 2 to level 3 over the year. Its digital unit works
at level 4 with the retail and affinity customers; the operations unit stayed at level 2.
Two relationships end up mismatched, one in each direction:

* Claims Division (level 4, wants integrated solutions) is served by Group IT Operations
  (level 2, working systems): the provider is behind its customer.
* Fleet Operators (level 1, buys on price) is served by the organisation as a whole, which
  reached level 3 (integrated services): the provider offers more than the customer seeks.

The two units assessed are organisation units of people.demo, loaded before this.

Every record has source "demo" and a stable external id and is created only when missing,
through maturity.services, so a second load creates and changes nothing. Assessment dates are
counted back from the day of the first load.
"""

import datetime
from collections import Counter

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.demo import SOURCE
from maturity import services
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import Party
from maturity.questionnaire import answers_for_level
from people.models import OrganisationUnit
from portfolio.models import Customer

# Five assessments a year, oldest first: days before the day of the first load.
ROUNDS = (360, 270, 180, 90, 10)

UNITS = {
    "digital-customer-services": "Digital and Customer Services",
    "group-it-operations": "Group IT Operations",
}

# Provider parties: key → (unit key or None for the organisation, levels per round, assessor)
PROVIDERS = {
    "provider": (None, (2, 2, 3, 3, 3), "demo"),
    "unit:digital-customer-services": ("digital-customer-services", (3, 3, 3, 4, 4), "demo"),
    "unit:group-it-operations": ("group-it-operations", (2, 2, 2, 2, 2), "demo"),
}

# Customers: slug → (serving unit key or None, levels per round). Assessed by their
# relationship managers.
CUSTOMERS = {
    "retail-policyholders": ("digital-customer-services", (3, 3, 3, 3, 3)),
    "affinity-partners": ("digital-customer-services", (2, 3, 3, 3, 3)),
    "fleet-operators": (None, (1, 1, 1, 1, 1)),
    "broker-network": (None, (2, 2, 2, 2, 2)),
    "corporate-clients": (None, (3, 3, 3, 4, 4)),
    "claims-division": ("group-it-operations", (3, 3, 4, 4, 4)),
    "underwriting-division": ("group-it-operations", (2, 2, 3, 3, 3)),
    "sales-and-marketing": (None, (2, 3, 3, 3, 3)),
}

# One override, so the feature shows: round index → (level, reason)
OVERRIDES = {
    ("corporate-clients", 3): (
        4,
        "The answers lag behind: in this quarter Corporate Clients signed a co-development "
        "agreement for group-policy onboarding, which is what a level-4 customer asks for.",
    ),
}
# The answers of that round are those of a level-3 customer (the override lifts it).
ANSWERED_LEVEL = {("corporate-clients", 3): 3}

NOTES = {
    ("fleet-operators", 4): "Renewal talks were about price per vehicle only.",
    ("claims-division", 2): "Wants one claims solution co-designed with the business.",
    ("provider", 2): "Service catalogue and support model rolled out across the organisation.",
}

SELF_ASSESSMENT = {
    "customer_focus": 70,
    "process_orientation": 95,
    "cost_optimisation": 55,
    "note": "Management team workshop: we see ourselves as process people first.",
}


class DemoLoader:
    def __init__(self, *, today: datetime.date):
        self.today = today
        self.created: Counter = Counter()
        self.users = {u.username: u for u in get_user_model().objects.all()}
        self.parties = {p.external_id: p for p in Party.objects.filter(source=SOURCE)}
        self.assessments = set(
            Assessment.objects.filter(source=SOURCE).values_list("external_id", flat=True)
        )

    def user(self, username: str):
        if username not in self.users:
            raise RuntimeError(f"Demo person {username!r} missing. Load core.demo first.")
        return self.users[username]

    def load(self) -> None:
        customers = {
            c.slug: c
            for c in Customer.objects.filter(source=SOURCE, slug__in=CUSTOMERS).select_related(
                "relationship_manager"
            )
        }
        missing = sorted(set(CUSTOMERS) - set(customers))
        if missing:
            raise RuntimeError(
                f"Demo customers missing: {', '.join(missing)}. Load portfolio.demo first."
            )
        units = {key: self.unit(key, name) for key, name in UNITS.items()}
        organisation = self.parties.get("party:provider") or services.organisation_party(
            source=SOURCE, external_id="party:provider"
        )
        for key, (unit_key, levels, assessor) in PROVIDERS.items():
            party = units[unit_key] if unit_key else organisation
            self.assess(key, party, levels, assessor=self.user(assessor))
        for slug, (unit_key, levels) in CUSTOMERS.items():
            customer = customers[slug]
            party = self.parties.get(f"party:customer:{slug}")
            if party is None:
                party = services.party_for_customer(
                    customer=customer, source=SOURCE, external_id=f"party:customer:{slug}"
                )
                if unit_key:
                    party = services.set_serving_unit(customer=customer, unit=units[unit_key])
                self.created["parties"] += 1
            self.assess(slug, party, levels, assessor=customer.relationship_manager)
        if not BalanceSelfAssessment.objects.filter(
            source=SOURCE, external_id="self-assessment:1"
        ).exists():
            services.record_self_assessment(
                assessed_on=self.today - datetime.timedelta(days=30),
                assessor=self.user("demo"),
                source=SOURCE,
                external_id="self-assessment:1",
                **SELF_ASSESSMENT,
            )
            self.created["self-assessments"] += 1
        services.record_balance_snapshot(on=self.today)

    def unit(self, key: str, name: str) -> Party:
        external_id = f"party:unit:{key}"
        if external_id in self.parties:
            return self.parties[external_id]
        organisation_unit = OrganisationUnit.objects.filter(
            source=SOURCE, external_id=f"unit:{key}"
        ).first()
        if organisation_unit is None:
            raise RuntimeError(f"Demo unit {name!r} missing. Load people.demo first.")
        unit = services.save_provider_unit(
            unit=Party(
                kind=PartyKind.PROVIDER,
                unit=organisation_unit,
                source=SOURCE,
                external_id=external_id,
            )
        )
        self.created["parties"] += 1
        return unit

    def assess(self, key: str, party: Party, levels: tuple[int, ...], *, assessor) -> None:
        for index, (days_back, level) in enumerate(zip(ROUNDS, levels, strict=True)):
            external_id = f"assessment:{key}:{index + 1}"
            if external_id in self.assessments:
                continue
            override_level, override_reason = OVERRIDES.get((key, index), (None, ""))
            services.record_assessment(
                party=party,
                assessed_on=self.today - datetime.timedelta(days=days_back),
                answers=answers_for_level(party.kind, ANSWERED_LEVEL.get((key, index), level)),
                override_level=override_level,
                override_reason=override_reason,
                note=NOTES.get((key, index), ""),
                assessor=assessor,
                source=SOURCE,
                external_id=external_id,
            )
            self.created["assessments"] += 1


def load(*, stdout) -> None:
    loader = DemoLoader(today=timezone.localdate())
    loader.load()
    detail = ", ".join(f"{count} {name}" for name, count in loader.created.items())
    stdout.write(
        f"Demo maturity: {detail or 'nothing'} created; today's balance snapshot recorded."
    )
