import pytest

from customfields.choices import FieldType
from customfields.models import CustomField
from tests.api.conftest import api_for  # noqa: F401 (fixtures: API clients with tokens)
from tests.api.conftest import pm_api  # noqa: F401


@pytest.fixture
def define(db):
    """``define(name, type, **options)``: a custom field of services (or ``model=``)."""

    def make(name: str, type: str = FieldType.TEXT, **options) -> CustomField:
        options.setdefault("model", "portfolio.service")
        options.setdefault("label", name.replace("_", " ").capitalize())
        field = CustomField(name=name, type=type, **options)
        field.full_clean()
        field.save()
        return field

    return make
