from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.models import RetirableModel
from core.models import SluggedModel
from core.models import accountable_user
from core.models import protected_reference
from core.models import unique_external_id
from core.search import SearchIndex
from people.choices import UnitKind


class OrganisationUnit(SluggedModel, RetirableModel):
    """A division, department or team of the organisation, in one hierarchy: services,
    applications, value streams, customers, suppliers and cost pools may belong to one, and
    the maturity app assesses the provider's units as these."""

    kind = models.CharField(max_length=12, choices=UnitKind.choices, default=UnitKind.TEAM)
    level = models.CharField(
        max_length=100, blank=True, help_text="The level's name when the kind is “Other level”."
    )
    # PROTECT: a unit with sub-units hands them over (or is retired) before it goes.
    parent = protected_reference("self", "children", help_text="The unit this one belongs to.")
    manager = accountable_user("managed_units", help_text="Who leads the unit.")

    url_name = "people:unit_detail"

    class Meta(SluggedModel.Meta):
        verbose_name = "organisation unit"
        indexes = [
            SearchIndex(searched=("name", "slug", "level", "external_id"), name="unit_search"),
        ]
        constraints = [unique_external_id("organisationunit")]

    def clean(self):
        super().clean()
        if self.kind == UnitKind.OTHER and not self.level.strip():
            raise ValidationError({"level": "Name the level of a unit of another kind."})
        if self.kind != UnitKind.OTHER and self.level:
            raise ValidationError({"level": "Only a unit of another kind names its level."})

    @property
    def level_name(self) -> str:
        return self.level if self.kind == UnitKind.OTHER else self.get_kind_display()


class Profile(models.Model):
    """What Portico knows of an account beyond Django's user: its organisation unit, the
    language it reads Portico in, and the source (an HR system, the identity provider) that
    syncs it, keyed by its external id."""

    # CASCADE: a profile describes its account and means nothing without it.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # PROTECT: a unit that people belong to is retired, not deleted.
    unit = protected_reference(OrganisationUnit, "members")
    source = models.CharField(max_length=100, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    # One of PORTICO_LANGUAGES (checked by people.services.set_language, as the list is the
    # deployment's); blank: pages follow the browser's language.
    language = models.CharField(
        max_length=12,
        blank=True,
        default="",
        help_text="The language pages, the API and e-mails speak to this person; blank: "
        "the browser's.",
    )

    class Meta:
        constraints = [unique_external_id("profile")]

    def __str__(self):
        return f"Profile of {self.user}"
