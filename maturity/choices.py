from django.db import models


class PartyKind(models.TextChoices):
    PROVIDER = "provider", "Provider"
    CUSTOMER = "customer", "Customer"


class MaturityLevel(models.IntegerChoices):
    """The five levels of the USM Value Maturity Model."""

    TECHNOLOGY = 1, "1 · Technology / product"
    SYSTEM = 2, "2 · System"
    SERVICE = 3, "3 · Service"
    CUSTOMER_DRIVEN = 4, "4 · Customer-driven"
    BUSINESS_DRIVEN = 5, "5 · Business-driven"


class Answer(models.IntegerChoices):
    """How far a party recognises itself in a statement; the value is its points."""

    NO = 0, "No"
    PARTLY = 1, "Partly"
    YES = 2, "Yes"


class MismatchDirection(models.TextChoices):
    PROVIDER_BEHIND = "provider_behind", "Provider behind its customer"
    PROVIDER_AHEAD = "provider_ahead", "Provider offers more than the customer seeks"


class BalanceElement(models.TextChoices):
    CUSTOMER_FOCUS = "customer_focus", "Customer focus"
    PROCESS_ORIENTATION = "process_orientation", "Process orientation"
    COST_OPTIMISATION = "cost_optimisation", "Cost optimisation"


class Strength(models.TextChoices):
    STRONG = "strong", "Strong"
    MIDDLING = "middling", "Middling"
    WEAK = "weak", "Weak"
