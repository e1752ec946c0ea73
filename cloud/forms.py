from django import forms

from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core.forms import PorticoModelForm


class TagRuleForm(PorticoModelForm):
    # Not stored: the rule is tried on this file when the form is sent with "Test".
    test_file = forms.FileField(
        required=False,
        label="Test against a file",
        help_text="A FOCUS file (CSV or Parquet): how many lines and how much each rule takes.",
    )

    class Meta:
        model = TagRule
        fields = [
            "name", "priority", "account", "tag_key", "tag_value", "resource_name_pattern",
            "provider_service_name", "service", "application", "pool", "category",
            "expenditure", "source", "external_id",
        ]  # fmt: skip


class TagKeySynonymForm(PorticoModelForm):
    class Meta:
        model = TagKeySynonym
        fields = ["synonym", "key", "source", "external_id"]


class FocusUploadForm(forms.Form):
    file = forms.FileField(
        label="FOCUS file",
        help_text=(
            "CSV or Parquet, FOCUS 1.0 or later. Each billing account's billing period in it "
            "replaces what was imported for it before."
        ),
    )
