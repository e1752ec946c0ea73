from decimal import Decimal

from django import forms

from core.forms import EDGE_DAY_WIDGETS
from core.forms import EDGE_DAYS
from core.forms import PorticoModelForm
from core.forms import live_drivers
from core.money import format_number
from core.pickers import RecordPickerField
from customfields.forms import CustomFieldsFormMixin
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier


def service_picker(**kwargs) -> RecordPickerField:
    """A service chosen by name (core.pickers)."""
    kwargs.setdefault("help_text", "Type its name and choose it from the list.")
    return RecordPickerField("service", Service.objects.all(), **kwargs)


def application_picker(**kwargs) -> RecordPickerField:
    """An application chosen by name (core.pickers)."""
    kwargs.setdefault("help_text", "Type its name and choose it from the list.")
    return RecordPickerField("application", Application.objects.all(), **kwargs)


def contract_picker(**kwargs) -> RecordPickerField:
    """A contract chosen by its reference or title (core.pickers)."""
    kwargs.setdefault("help_text", "Type its reference or title and choose it from the list.")
    return RecordPickerField("contract", Contract.objects.select_related("supplier"), **kwargs)


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceForm(CustomFieldsFormMixin, PorticoModelForm):
    person_fields = ("owner", "delegates")

    class Meta:
        model = Service
        fields = [
            "name",
            "summary",
            "kind",
            "lifecycle",
            "pipeline_on",
            "live_on",
            "retired_on",
            "criticality",
            "owner",
            "delegates",
            "unit",
        ]
        widgets = {"pipeline_on": DATE, "live_on": DATE, "retired_on": DATE}
        help_texts = {
            "owner": "The one person accountable for this service.",
            "live_on": "Leave empty when unknown; a change of lifecycle records today's date.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegates"].required = False


class SpecificationItemForm(PorticoModelForm):
    class Meta:
        model = SpecificationItem
        fields = SpecificationItem.STATEMENT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.is_functioning:
            for name in SpecificationItem.MEASURE_FIELDS:
                del self.fields[name]


class DependencyForm(PorticoModelForm):
    provider = service_picker(
        help_text="The service this one depends on: type its name and choose it from the list."
    )

    class Meta:
        model = ServiceDependency
        fields = ["provider", "weight", "driver", "note", *EDGE_DAYS]
        widgets = EDGE_DAY_WIDGETS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live_drivers(self)


# --- Customers, suppliers and contracts, applications -----------------------------------------


class PlainDecimalsMixin:
    """Show stored decimals as people write them (40, 7.5), not as 40.0000 and 7.5000."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if isinstance(field, forms.DecimalField) and isinstance(value, Decimal):
                self.initial[name] = format_number(value, grouping=False)


class CustomerForm(CustomFieldsFormMixin, PorticoModelForm):
    person_fields = ("relationship_manager",)

    class Meta:
        model = Customer
        fields = ["name", "kind", "segment", "relationship_manager", "unit"]
        help_texts = {
            "segment": "A grouping of your own, such as Retail or Commercial.",
            "relationship_manager": "Who looks after this customer relationship.",
        }


class SubscriptionForm(PlainDecimalsMixin, PorticoModelForm):
    service = service_picker()

    # Another service makes another subscription: end this one and add a new one.
    fixed_fields = ("service",)

    class Meta:
        model = Subscription
        fields = ["service", *Subscription.TERMS]
        widgets = {"start_date": DATE, "end_date": DATE}
        help_texts = {
            "price_per_unit": "Per unit and month.",
            "annual_charge": "When agreed as one sum a year; it takes precedence over the price.",
        }


class OutcomeForm(PlainDecimalsMixin, PorticoModelForm):
    class Meta:
        model = Outcome
        fields = [
            "statement",
            "metric",
            "comparator",
            "target",
            "unit",
            "window",
            "specification_item",
            "agreement",
            "status_override",
            "override_reason",
        ]
        labels = {
            "specification_item": "Relies on item",
            "status_override": "Status set by hand",
        }
        help_texts = {
            "metric": "What is measured. An outcome without a measure is not yet an SCO.",
            "window": "How often a figure is due when the outcome is measured directly.",
            "specification_item": (
                "Optional: the item of the subscribed service it relies on; without figures "
                "of its own the outcome follows that item."
            ),
            "status_override": "Leave empty: the status follows the figures.",
            "override_reason": "Why the status is set by hand (required with it).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the items of the subscribed service: a handful, so a plain select.
        self.fields["specification_item"].queryset = SpecificationItem.objects.filter(
            service_id=self.instance.subscription.service_id
        ).order_by("aspect", "dimension", "position", "id")


class SupplierForm(CustomFieldsFormMixin, PorticoModelForm):
    website = forms.URLField(required=False, assume_scheme="https")

    person_fields = ("owner",)

    class Meta:
        model = Supplier
        fields = ["name", "website", "owner", "unit"]
        help_texts = {"owner": "Who manages this supplier relationship."}


class ContractForm(CustomFieldsFormMixin, PorticoModelForm):
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.all(), to_field_name="slug")

    person_fields = ("owner",)

    class Meta:
        model = Contract
        fields = [
            "supplier",
            "reference",
            "title",
            "start_date",
            "end_date",
            "renewal_date",
            "notice_period_days",
            "auto_renewal",
            "annual_value",
            "currency",
            "escalation_percent",
            "notice_given_on",
            "owner",
        ]
        widgets = {
            "start_date": DATE,
            "end_date": DATE,
            "renewal_date": DATE,
            "notice_given_on": DATE,
        }
        help_texts = {
            "renewal_date": "When it renews (or ends) unless notice is given.",
            "notice_period_days": "Days before the renewal (or end) date that notice is due.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        suppliers = Supplier.objects.filter(retired_at__isnull=True)
        if self.user is not None and not self.user.has_perm("portfolio.change_contract"):
            # An owner may not move a contract to a supplier someone else manages.
            suppliers = Supplier.objects.restrict(self.user, "change")
        if self.instance.supplier_id:
            suppliers = suppliers | Supplier.objects.filter(pk=self.instance.supplier_id)
        self.fields["supplier"].queryset = suppliers.order_by("name")


class CoverageForm(PlainDecimalsMixin, PorticoModelForm):
    service = service_picker(required=False)
    application = application_picker(required=False)

    fixed_fields = ("service", "application")

    class Meta:
        model = ContractCoverage
        fields = ["service", "application", "weight", *EDGE_DAYS]
        widgets = EDGE_DAY_WIDGETS
        help_texts = {"weight": "Its share of the contract value, relative to the others."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            unused = "application" if self.instance.service_id else "service"
            del self.fields[unused]


class ApplicationForm(CustomFieldsFormMixin, PorticoModelForm):
    vendor = forms.ModelChoiceField(
        queryset=Supplier.objects.all(), to_field_name="slug", required=False
    )

    person_fields = ("owner",)

    class Meta:
        model = Application
        fields = [
            "name",
            "description",
            "owner",
            "unit",
            "lifecycle",
            "disposition",
            "criticality",
            "vendor",
        ]
        labels = {"disposition": "TIME disposition"}
        help_texts = {
            "disposition": "Tolerate, Invest, Migrate or Eliminate.",
            "vendor": "The supplier of the application, if bought.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vendors = Supplier.objects.filter(retired_at__isnull=True)
        if self.instance.vendor_id:
            vendors = vendors | Supplier.objects.filter(pk=self.instance.vendor_id)
        self.fields["vendor"].queryset = vendors.order_by("name")


class ApplicationSupportForm(PlainDecimalsMixin, PorticoModelForm):
    service = service_picker()

    fixed_fields = ("service",)

    class Meta:
        model = ApplicationSupport
        fields = ["service", "weight", "driver", *EDGE_DAYS]
        widgets = EDGE_DAY_WIDGETS
        help_texts = {"weight": "Its share of the application's cost, relative to the others."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live_drivers(self)
