"""Who may do what on the data-quality pages (tests/views.py turns each spec into its cases):
only a service's owner (or a delegate) confirms it, not even a Portfolio manager, who may
change it; only Portfolio managers see the steward's page."""

from django.utils import timezone

from attestation.choices import AttestationStatus
from attestation.models import Attestation
from attestation.selectors import standing_of
from core import roles
from tests.factories.portfolio import ServiceFactory
from tests.views import OWNER
from tests.views import REFUSED
from tests.views import Action
from tests.views import ViewSpec
from tests.views import post
from tests.views import role_persona
from tests.views import view_tests


def confirmed(service):
    assert standing_of(service, timezone.localdate()).status == AttestationStatus.ATTESTED


CONFIRM = ViewSpec(
    name="attestation",
    make=lambda owner: ServiceFactory(owner=owner),
    url_args=lambda service: ["service", service.pk],
    owner_role=roles.SERVICE_OWNER,
    label=lambda service: service.name,
    actions={
        "confirm": post(
            "attestation:confirm",
            done=confirmed,
            expect={role_persona(roles.PORTFOLIO_MANAGER): REFUSED},
            watch=(Attestation,),
        ),
        "steward": Action(
            "attestation:steward",
            "change",
            args=lambda service: [],
            success=200,
            shows=lambda service: "",
            expect={OWNER: REFUSED},
        ),
    },
)
test_attestation_views = view_tests(CONFIRM)
