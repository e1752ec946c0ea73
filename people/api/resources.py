"""The people app's API resources: organisation units (see core.api.resources). Users are
served by people.api.users: their record is Django's account, not a portfolio model."""

from django.contrib.auth import get_user_model

from core.api.resources import Feed
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from core.api.resources import registry
from people import filtersets
from people import services
from people.models import OrganisationUnit

register(
    Resource(
        "organisation-units",
        model=OrganisationUnit,
        fields=("name", "slug", "kind", "level", "parent", "manager"),
        description=(
            "A division, department or team of the organisation, in one hierarchy (parent); "
            "services, applications, value streams, customers, suppliers and cost pools may "
            "belong to one."
        ),
        reads=Reads(filterset=filtersets.OrganisationUnitFilterSet),
        writes=Writes(
            save=lambda unit, user: services.save_unit(unit=unit),
            retire=services.retire_unit,
        ),
    )
)

# The users' changes (people.services and people.sync log them) in the change feed; a
# deactivated person counts as retired.
registry.add_feed(
    Feed("users", get_user_model(), retired_when=lambda snapshot: not snapshot.get("is_active"))
)
