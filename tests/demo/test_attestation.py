"""The demo's attestations and data-quality scores: a believable spread, and five services'
scores as counted by hand from what the demo holds."""

from collections import Counter

import pytest
from django.utils import timezone

from attestation import quality
from attestation.selectors import in_use
from attestation.selectors import with_attestation
from portfolio.models import Service
from tests.demo import load_demo

pytestmark = pytest.mark.django_db

QUADRANTS, FRESH, OWNER, OUTCOMES, TCO, STREAM, ATTESTED, NO_CHECK = (
    "quadrants",
    "functioning_fresh",
    "owner_active",
    "outcomes_agreed",
    "tco_complete",
    "in_value_stream",
    "attested",
    "no_check_needed",
)
# Per service: the criteria met, those that do not apply, and the score counted by hand with
# the weights of docs/quality.md.
HAND_COUNT = {
    # Everything: 100 of 100.
    "billing-and-payments": (
        {QUADRANTS, FRESH, OWNER, OUTCOMES, TCO, STREAM, ATTESTED, NO_CHECK},
        set(),
        100,
    ),
    # Its customers' outcomes not all agreed; its confirmation is overdue: 80 of 100.
    "crm-platform": ({QUADRANTS, FRESH, OWNER, TCO, STREAM, NO_CHECK}, set(), 80),
    # Quadrants missing, outcomes not agreed, in no value stream, changed by the CMDB since
    # it was confirmed: 15 + 15 + 15 + 10 = 55 of 100.
    "management-information": ({FRESH, OWNER, TCO, ATTESTED}, set(), 55),
    # A pipeline service: no functioning items, no customers; never confirmed: 35 of 75.
    "travel-assistance": ({OWNER, TCO, NO_CHECK}, {FRESH, OUTCOMES}, 47),
    # An internal service without customers, in no value stream: 80 of 90.
    "finance-ledger": ({QUADRANTS, FRESH, OWNER, TCO, ATTESTED, NO_CHECK}, {OUTCOMES}, 89),
}


def test_five_demo_services_score_as_counted_by_hand(demo):
    today = timezone.localdate()
    scores = quality.service_scores(today)
    for slug, (met, not_applying, score) in HAND_COUNT.items():
        service = Service.objects.get(slug=slug)
        page_score, checks = quality.checks_of(service, today)
        assert {c.criterion.key for c in checks if c.met} == met, slug
        assert {c.criterion.key for c in checks if not c.applies} == not_applying, slug
        assert (page_score, scores[service.pk]) == (score, score), slug


def test_the_demo_has_a_spread_of_attestations(demo):
    statuses = Counter(
        with_attestation(Service.objects.filter(in_use(Service)), timezone.localdate()).values_list(
            "attestation_status", flat=True
        )
    )
    assert set(statuses) == {"attested", "due", "check_needed", "never_attested"}
    assert statuses["attested"] > sum(statuses.values()) / 3


def test_a_second_load_adds_no_attestation(demo):
    assert "Demo attestations: 0 created" in load_demo()
