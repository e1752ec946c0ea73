"""Factories of organisation units."""

import factory
from django.utils.text import slugify

from people.choices import UnitKind
from people.models import OrganisationUnit


class OrganisationUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationUnit

    name = factory.Sequence(lambda n: f"Unit {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = UnitKind.TEAM
    parent = None
    manager = None
