from django.db import models


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    INTEGER = "integer", "Integer"
    DECIMAL = "decimal", "Decimal number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes or no"
    URL = "url", "Web address (URL)"
    CHOICE = "choice", "Choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    REFERENCE = "reference", "Reference to a record"


class TargetModel(models.TextChoices):
    """The models that carry custom fields (``app_label.model_name``)."""

    SERVICE = "portfolio.service", "Services"
    APPLICATION = "portfolio.application", "Applications"
    CUSTOMER = "portfolio.customer", "Customers"
    SUPPLIER = "portfolio.supplier", "Suppliers"
    CONTRACT = "portfolio.contract", "Contracts"
    VALUE_STREAM = "valuestreams.valuestream", "Value streams"
