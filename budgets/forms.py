import json
from typing import cast

from django import forms

from budgets.choices import CHANGE_NEEDS
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core.forms import PorticoModelForm
from finance.forms import pool_picker
from finance.models import LABEL_FORMAT
from finance.models import TARGET_FIELDS
from finance.models import month_serial
from finance.models import parse_label
from finance.models import serial_label
from portfolio.forms import application_picker
from portfolio.forms import contract_picker
from portfolio.forms import service_picker
from portfolio.models import Contract
from portfolio.models import ServiceDependency


class BudgetVersionForm(PorticoModelForm):
    class Meta:
        model = BudgetVersion
        fields = ["fiscal_year", "name", "run_rate_months"]


class BudgetLineForm(PorticoModelForm):
    """A planned line, or an edit of any line (which turns a built one manual). The month is
    written YYYY-MM and stored as its serial."""

    month = forms.CharField(
        max_length=7, help_text=f"The month, {LABEL_FORMAT}, in the version's fiscal year."
    )
    service = service_picker(required=False)
    application = application_picker(required=False)
    contract = contract_picker(required=False)
    pool = pool_picker(required=False)

    class Meta:
        model = BudgetLine
        fields = [
            "month",
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
            "note",
        ]
        help_texts = {
            "service": "Exactly one target: a service, an application, a contract or a pool.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].widget.attrs.update(
            {"placeholder": LABEL_FORMAT, "pattern": r"\d{4}-\d{2}"}
        )
        if self.instance.serial is not None:
            self.initial["month"] = serial_label(self.instance.serial)

    def clean_month(self) -> int:
        year, month = parse_label(self.cleaned_data["month"])
        return month_serial(year, month)

    def clean(self):
        cleaned = super().clean()
        if "month" in cleaned:
            self.instance.serial = cleaned["month"]
        chosen = [name for name in TARGET_FIELDS if cleaned.get(name)]
        if not chosen and not any(name in self.errors for name in TARGET_FIELDS):
            self.add_error(
                "service",
                "Choose what the budget is for: a service, an application, a contract or a pool.",
            )
        for name in chosen[1:]:
            self.add_error(name, f"Choose one target only: this line is already for a {chosen[0]}.")
        if cleaned.get("expenditure") == "opex" and (cleaned.get("spread_months") or 1) != 1:
            self.add_error("spread_months", "Only capex is spread over several months.")
        return cleaned


class ScenarioForm(PorticoModelForm):
    """A scenario's name and note (its base is the version it was made from)."""

    class Meta:
        model = Scenario
        fields = ["name", "note"]


class DependencyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.consumer.name} depends on {obj.provider.name}"


class ScenarioChangeForm(PorticoModelForm):
    """One change of a scenario. Its kind says which of the other fields it names (the
    model's clean refuses the others on their field): a contract value names a contract; a
    dependency weight and a retired dependency a dependency; a new dependency a service and
    its provider; a retired service a service; all but the retirements a value."""

    dependency = DependencyChoiceField(
        queryset=ServiceDependency.objects.none(),
        required=False,
        help_text="For a dependency weight or a retired dependency.",
    )
    service = service_picker(required=False)
    provider = service_picker(required=False)

    class Meta:
        model = ScenarioChange
        fields = ["kind", "contract", "dependency", "service", "provider", "value"]
        help_texts = {
            "contract": "For a contract value.",
            "value": "A contract's new annual value, or a dependency's weight (none for a "
            "retirement).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        contract = cast(forms.ModelChoiceField, self.fields["contract"])
        contract.queryset = Contract.objects.select_related("supplier").order_by("reference")
        dependency = cast(forms.ModelChoiceField, self.fields["dependency"])
        dependency.queryset = ServiceDependency.objects.select_related(
            "consumer", "provider"
        ).order_by("consumer__name", "provider__name", "valid_from", "pk")
        self.fields[
            "service"
        ].help_text = "The consumer of a new dependency, or the retired service: type its name."
        self.fields["provider"].help_text = "For a new dependency: the provider's name."

    @property
    def kind_fields(self) -> str:
        """The fields each kind names (with ``value`` where it takes one), as JSON for the
        page's script, which shows only those of the kind chosen."""
        return json.dumps(
            {
                kind: [*targets, *(["value"] if valued else [])]
                for kind, (targets, valued) in CHANGE_NEEDS.items()
            }
        )
