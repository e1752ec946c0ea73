import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from core.forms import EDGE_DAY_WIDGETS
from core.forms import EDGE_DAYS
from core.forms import CsvImportForm
from core.forms import PorticoModelForm
from core.forms import live_drivers
from core.pickers import RecordPickerField
from finance import services
from finance.choices import ReportFormat
from finance.choices import ReportKind
from finance.filtersets import FundServicesFilterSet
from finance.models import LABEL_FORMAT
from finance.models import SCHEDULE_FIELDS
from finance.models import TARGET_FIELDS
from finance.models import CostItem
from finance.models import CostPool
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import ReportDefinition
from finance.models import TcoResult
from finance.models import parse_label
from portfolio.forms import application_picker
from portfolio.forms import contract_picker
from portfolio.forms import service_picker
from portfolio.models import Service


def pool_picker(**kwargs) -> RecordPickerField:
    """A cost pool in use chosen by name (core.pickers)."""
    kwargs.setdefault("help_text", "Type its name and choose it from the list.")
    return RecordPickerField("costpool", CostPool.objects.filter(retired_at__isnull=True), **kwargs)


class PeriodLabelField(forms.CharField):
    """A period written YYYY-MM; the form's save makes it when it does not exist yet."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", f"The calendar month, {LABEL_FORMAT}.")
        super().__init__(**kwargs)
        self.widget.attrs.update({"placeholder": LABEL_FORMAT, "pattern": r"\d{4}-\d{2}"})

    def clean(self, value):
        value = super().clean(value)
        if value:
            parse_label(value)
        return value


class PeriodLabelFormMixin:
    """A model form whose object belongs to a period, given as ``period_label``.

    The form validates the object against the period of that label (an unsaved one when it
    does not exist yet); the view's save makes it (services.period_for).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["period_label"] = self.instance.period.label

    def _post_clean(self):
        label = self.cleaned_data.get("period_label")
        if label:
            year, month = parse_label(label)
            self.instance.period = Period.objects.filter(year=year, month=month).first() or Period(
                year=year, month=month
            )
        super()._post_clean()

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.add("period")
        return exclude


class CostItemForm(PeriodLabelFormMixin, PorticoModelForm):
    period_label = PeriodLabelField(label="Period")
    service = service_picker(required=False)
    application = application_picker(required=False)
    contract = contract_picker(required=False)
    pool = pool_picker(required=False)

    class Meta:
        model = CostItem
        fields = [
            "description",
            "period_label",
            "amount",
            "currency",
            "category",
            "expenditure",
            "spread_months",
            "pool_type",
            "service",
            "application",
            "contract",
            "pool",
            "source",
            "external_id",
        ]
        help_texts = {
            "service": "Exactly one target: a service, an application, a contract or a pool.",
            "source": "Where the line comes from (a ledger), with its key there.",
        }

    def clean(self):
        cleaned = super().clean()
        chosen = [name for name in TARGET_FIELDS if cleaned.get(name)]
        if not chosen and not any(name in self.errors for name in TARGET_FIELDS):
            self.add_error(
                "service",
                "Choose what the cost is for: a service, an application, a contract or a pool.",
            )
        for name in chosen[1:]:
            self.add_error(name, f"Choose one target only: this item is already for a {chosen[0]}.")
        if cleaned.get("expenditure") == "opex" and (cleaned.get("spread_months") or 1) != 1:
            self.add_error("spread_months", "Only capex is spread over several months.")
        return cleaned


class CostPoolForm(PorticoModelForm):
    person_fields = ("owner",)

    class Meta:
        model = CostPool
        fields = [
            "name",
            "description",
            "pool_type",
            "owner",
            "unit",
            "source",
            "external_id",
        ]


class PoolAllocationForm(PorticoModelForm):
    service = RecordPickerField(
        "service",
        Service.objects.exclude(lifecycle="retired"),
        help_text="The service that carries a share of the pool: type its name and choose it "
        "from the list.",
    )

    class Meta:
        model = PoolAllocation
        fields = ["service", "weight", "driver", *EDGE_DAYS]
        widgets = EDGE_DAY_WIDGETS
        help_texts = {"weight": "Its share relative to the pool's other services."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live_drivers(self)


class DriverForm(PorticoModelForm):
    class Meta:
        model = Driver
        fields = ["name", "unit", "description", "source", "external_id"]


class DriverQuantityForm(PeriodLabelFormMixin, PorticoModelForm):
    period_label = PeriodLabelField(label="Period")
    service = service_picker(required=False)
    application = application_picker(required=False)

    class Meta:
        model = DriverQuantity
        fields = [
            "driver",
            "period_label",
            "service",
            "application",
            "quantity",
            "source",
            "external_id",
        ]
        help_texts = {"service": "Exactly one consumer: a service or an application."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live_drivers(self, empty_label=None)

    def clean(self):
        cleaned = super().clean()
        chosen = [name for name in ("service", "application") if cleaned.get(name)]
        if not chosen and not {"service", "application"} & set(self.errors):
            self.add_error("service", "Choose the consumer: a service or an application.")
        if len(chosen) == 2:
            self.add_error("application", "Choose one consumer only: this is for a service.")
        return cleaned


class DriverQuantityImportForm(CsvImportForm):
    file_help = (
        "A CSV file with the columns driver, period, service or application (slugs; the "
        "period as YYYY-MM), quantity and external_id."
    )


class ExchangeRateForm(PeriodLabelFormMixin, PorticoModelForm):
    period_label = PeriodLabelField(label="Period")

    class Meta:
        model = ExchangeRate
        fields = ["period_label", "currency", "rate", "source", "external_id"]


class PeriodForm(forms.Form):
    label = PeriodLabelField(label="Period")


class RestateForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the closed figures are computed again (shown beside the new version).",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why the period is restated.")
        return reason


# --- Scheduled reports -----------------------------------------------------------------------

SCOPE_PREFIX = "scope_"
RECIPIENT_SEPARATORS = re.compile(r"[\s,;]+")


class RecipientsField(forms.CharField):
    """E-mail addresses, one a line or separated by commas; the model names each bad one."""

    widget = forms.Textarea

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return [part for part in RECIPIENT_SEPARATORS.split(value or "") if part]


class ReportDefinitionForm(PorticoModelForm):
    """A report, its scope (the Fund services page's own filters, as fields ``scope_*``) and
    its schedule."""

    formats = forms.MultipleChoiceField(
        choices=ReportFormat.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one format: xlsx, csv or pdf."},
    )
    recipients = RecipientsField(
        help_text="E-mail addresses, one a line or separated by commas.",
        error_messages={"required": "Name at least one recipient."},
    )

    class Meta:
        model = ReportDefinition
        fields = [
            "name",
            "kind",
            "period_selector",
            "formats",
            "recipients",
            "minute",
            "hour",
            "day_of_month",
            "month_of_year",
            "day_of_week",
            "enabled",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].widget.attrs["rows"] = 3
        # Not asked for: a TCO-by-service report, as before there were kinds.
        self.fields["kind"].required = False
        filters = FundServicesFilterSet(queryset=TcoResult.objects.none()).form.fields
        scope = self.instance.scope or {}
        position = list(self.fields).index("recipients") + 1
        items = list(self.fields.items())
        added = []
        for name, field in filters.items():
            field.required = False
            field.label = f"Scope: {str(field.label).lower()}"
            field.help_text = "Empty: every service. As on the Fund services page."
            added.append((SCOPE_PREFIX + name, field))
            if name in scope:
                self.initial[SCOPE_PREFIX + name] = scope[name]
        self.fields = dict(items[:position] + added + items[position:])
        for name, label in SCHEDULE_FIELDS:
            self.fields[name].label = f"Schedule: {label}"
        self.scope_names = [name for name, _ in added]

    def clean_kind(self):
        return self.cleaned_data.get("kind") or ReportKind.SERVICES

    def clean(self):
        cleaned = super().clean()
        scope = {}
        for name in self.scope_names:
            value = cleaned.get(name)
            if isinstance(value, models.Model):
                value = getattr(value, self.fields[name].to_field_name or "pk")
            if value not in (None, ""):
                scope[name.removeprefix(SCOPE_PREFIX)] = str(value)
        self.instance.scope = scope
        return cleaned


class RunReportForm(forms.Form):
    period = forms.CharField(
        required=False,
        max_length=10,
        help_text="Empty: the period the report names. Or YYYY-MM, YYYY-Qn (fiscal) or FYyyyy.",
    )
    resend = forms.BooleanField(
        required=False,
        label="Send the e-mail again if this period was already sent",
    )

    def clean_period(self):
        value = self.cleaned_data["period"].strip()
        if value:
            try:
                return services.parse_report_period(value).key
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["period"]) from None
        return value
