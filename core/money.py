"""Money is Decimal with an explicit ISO 4217 currency; rounding happens once, when shown.

Every page, e-mail, chart and file shows an amount through ``format_amount`` (in templates
the ``amount`` filter of ``core.templatetags.portico``), so a tie such as 0.125 shows the
same cents everywhere: 0.12, half to even.
"""

from decimal import ROUND_HALF_EVEN
from decimal import Context
from decimal import Decimal
from decimal import InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.deconstruct import deconstructible
from iso4217 import Currency

CENT = Decimal("0.01")
# The codes of ISO 4217's list of current currencies and funds, as the iso4217 package ships
# it (it follows the maintenance agency's amendments): XYZ has three capitals but is not one.
ISO_4217_CODES = frozenset(currency.code for currency in Currency)


def iso_4217_error(code: str) -> str:
    """The refusal of a code that is not an ISO 4217 currency code ("" for one that is)."""
    return "" if code in ISO_4217_CODES else f"{code} is not an ISO 4217 currency code."


@deconstructible
class CurrencyCodeValidator(RegexValidator):
    """Three capital letters (the pattern the API's schema shows) that ISO 4217 lists."""

    def __init__(self):
        super().__init__(r"^[A-Z]{3}$", "Enter a three-letter ISO 4217 currency code such as EUR.")

    def __call__(self, value):
        super().__call__(value)
        if message := iso_4217_error(value):
            raise ValidationError(message, code="invalid")


currency_code_validator = CurrencyCodeValidator()


def reporting_currency() -> str:
    return settings.PORTICO_CURRENCY


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding rule for money shown to people: to the cent, half to even."""
    room = Context(prec=max(28, amount.adjusted() + 4))  # however large the amount
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN, context=room)


def from_cents(cents: int) -> Decimal:
    """``cents`` hundredths as an amount, exactly, however many digits it has (the default
    decimal context keeps 28)."""
    value = Decimal(cents)
    return value.scaleb(-2, context=Context(prec=max(28, value.adjusted() + 3)))


def as_decimal(value) -> Decimal:
    """A number as an exact Decimal: a float by its shortest form (2.675, not 2.67499…)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bool):
        raise TypeError("A boolean is not an amount.")
    try:
        return Decimal(value if isinstance(value, int) else str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number.") from None


def format_amount(amount, currency: str = "", *, places: int = 2, grouping: bool = True) -> str:
    """``amount`` as people read it: rounded once, half to even, to ``places`` decimals (the
    cent by default), thousands grouped with a comma as the pages have always shown them, and
    the currency code after it when given: “12,345.68 EUR”. ``None`` shows as nothing; a
    figure that rounds to zero shows without a minus sign."""
    if amount is None or amount == "":
        return ""
    number = as_decimal(amount)
    if not number.is_finite():
        raise ValueError(f"{amount!r} is not a finite number.")
    # Room for every digit: the default context's 28 would refuse a very large amount.
    room = Context(prec=max(28, number.adjusted() + places + 2))
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN, context=room)
    if rounded.is_zero():
        rounded = abs(rounded)
    text = format(rounded, ",f" if grouping else "f")
    return f"{text} {currency}" if currency else text


def format_number(value, *, grouping: bool = True) -> str:
    """A count or a measure (not money, which keeps its cents: ``format_amount``) as people
    write it: every digit it has and no more, thousands grouped as amounts are, 1,234.5 not
    1234.5000, 90 not 9E+1. ``None`` shows as nothing; ``grouping=False`` gives the digits a
    form field takes back."""
    if value is None or value == "":
        return ""
    number = as_decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number.")
    # Every digit kept: normalize rounds to its context's precision.
    room = Context(prec=max(28, len(number.as_tuple().digits)))
    number = Decimal(0) if number.is_zero() else number.normalize(room)
    return format(number, ",f" if grouping else "f")


def format_count(count, singular: str, plural: str) -> str:
    """How many of something there are: “1 service”, “1,234 services”, “0 services”,
    “0.5 services” (English has the singular for one alone)."""
    return f"{format_number(count)} {singular if count == 1 else plural}"


_SIBILANT_ENDS = ("s", "x", "z", "ch", "sh")


def plural_noun(noun: str) -> str:
    """The regular English plural of a unit someone named (“user”, “policy”, “app user”,
    “mailbox”): its last word takes -s, -es or -ies; a plural already (“users”) stays."""
    head, space, word = noun.rpartition(" ")
    lower = word.lower()
    if not word or (lower.endswith("s") and not lower.endswith(("ss", "us", "is"))):
        return noun
    if lower.endswith("y") and len(word) > 1 and lower[-2] not in "aeiou":
        word = word[:-1] + "ies"
    elif lower.endswith(_SIBILANT_ENDS):
        word += "es"
    else:
        word += "s"
    return f"{head}{space}{word}"


def format_units(count, unit: str) -> str:
    """A number of a subscription's units with its unit's name: “1 policy”, “412,000
    policies”, “2.5 hours”."""
    return format_count(count, unit, plural_noun(unit))


def format_percent(ratio) -> str:
    """A ratio as a whole percentage, by format_amount's rule (half to even): 0.295 is
    “30%”, 1.2 is “120%”. ``None`` shows as nothing."""
    if ratio is None or ratio == "":
        return ""
    return f"{format_amount(as_decimal(ratio) * 100, places=0)}%"


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


# Digits of the figures the roll-up computes (totals, what a service keeps, revenue, a
# customer's cost to serve, unit cost, recovery ratio). An amount of the ledger has at most 18
# digits and a rate into the reporting currency at most 10 before its point, so one converted
# amount stays below 10^26; a figure adds many of them up, or divides one by a cent (a ratio)
# or a ten-thousandth of a unit (a unit cost), so it is stored with 40 digits: no sum of valid
# inputs reaches it.
FIGURE_DIGITS = 40

# The largest amount a MoneyField of the ledger holds (18 digits, 2 decimals).
LARGEST_AMOUNT = Decimal("9999999999999999.99")


class MoneyField(models.DecimalField):
    """An amount of money: 18 digits with 2 decimals unless told otherwise."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)
