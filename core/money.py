"""Money is Decimal with an explicit ISO 4217 currency; rounding happens once, when shown."""

from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

CENT = Decimal("0.01")
currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", "Enter a three-letter ISO 4217 currency code such as EUR."
)


def reporting_currency() -> str:
    return settings.PORTICO_CURRENCY


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding rule for money shown to people: to the cent, half to even."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


class CurrencyField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("default", reporting_currency)
        kwargs.setdefault("validators", [currency_code_validator])
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        return name, path, args, kwargs


class MoneyField(models.DecimalField):
    """An amount of money: 18 digits with 2 decimals unless told otherwise."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)
