import datetime
from decimal import Decimal

import factory

from performance.models import Measurement
from tests.factories.portfolio import SpecificationItemFactory


class MeasurementFactory(factory.django.DjangoModelFactory):
    """A month's figure of a functioning item (``met`` as the write rule would judge it
    against the item's 99.5 % target)."""

    class Meta:
        model = Measurement

    item = factory.SubFactory(SpecificationItemFactory, functioning=True)
    start = datetime.date(2026, 10, 1)
    end = datetime.date(2026, 10, 31)
    value = Decimal("99.7")
    met = True
