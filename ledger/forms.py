from django import forms

from core.forms import PorticoModelForm
from ledger.models import LedgerRule

FILE_HELP = (
    "CSV or XLSX with a header row: account, cost centre, vendor, description, amount, "
    "currency, and the posting date or the period (see the column names and aliases on the "
    "ledger page)."
)


class LedgerRuleForm(PorticoModelForm):
    # Not stored: the rule is tried on this file when the form is sent with "Test".
    test_file = forms.FileField(
        required=False,
        label="Test against a file",
        help_text="A ledger file: how many lines and how much money each rule takes.",
    )

    class Meta:
        model = LedgerRule
        fields = [
            "name", "priority", "account", "account_match", "cost_centre", "cost_centre_match",
            "vendor", "vendor_match", "service", "application", "contract", "pool", "category",
            "expenditure", "pool_type", "source", "external_id",
        ]  # fmt: skip


class LedgerUploadForm(forms.Form):
    file = forms.FileField(
        label="Ledger file",
        help_text=FILE_HELP + " Each period in it replaces what was imported for it before.",
    )


class LedgerTestForm(forms.Form):
    file = forms.FileField(label="Ledger file", help_text=FILE_HELP + " Nothing is saved.")
