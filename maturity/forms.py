from django import forms
from django.utils import timezone

from core.forms import PorticoModelForm
from maturity import selectors
from maturity.choices import Answer
from maturity.choices import MaturityLevel
from maturity.models import BalanceSelfAssessment
from maturity.models import Party
from maturity.questionnaire import LEVELS
from maturity.questionnaire import statements_by_level
from maturity.questionnaire import statements_for

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AssessmentForm(forms.Form):
    """The questionnaire of one kind of party, one No/Partly/Yes question per statement.

    Statement fields are named by their codes, so errors from maturity.services land beside
    the statement they concern.
    """

    assessed_on = forms.DateField(label="Assessed on", widget=DATE_INPUT)
    override_level = forms.TypedChoiceField(
        label="Override the level",
        choices=[("", "No: keep the level the answers give"), *MaturityLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Only when you know better than the answers; say why below.",
    )
    override_reason = forms.CharField(
        label="Reason for the override", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    note = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, kind: str, assessment=None, instance=None, **kwargs):
        # What the form writes (an assessment, or a party before its first): its rights.
        self.instance = instance
        if assessment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "assessed_on": assessment.assessed_on,
                "override_level": assessment.override_level,
                "override_reason": assessment.override_reason,
                "note": assessment.note,
                **{code: str(points) for code, points in assessment.answers.items()},
            }
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["assessed_on"].initial = self.fields["assessed_on"].initial or (
            timezone.localdate
        )
        for statement in statements_for(kind):
            self.fields[statement.code] = forms.TypedChoiceField(
                label=statement.text,
                choices=Answer.choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Answer No, Partly or Yes."},
            )

    def clean(self):
        cleaned = super().clean()
        # maturity.services enforces this too; here it shows beside the field at once.
        if cleaned.get("override_level") and not cleaned.get("override_reason", "").strip():
            self.add_error(
                "override_reason", "Give the reason for overriding the level of the answers."
            )
        return cleaned

    @property
    def answers(self) -> dict[str, int]:
        return {s.code: self.cleaned_data[s.code] for s in statements_for(self.kind)}

    def levels(self):
        """The statement fields grouped by level, for the template."""
        return [
            (LEVELS[level], [self[statement.code] for statement in statements])
            for level, statements in statements_by_level(self.kind).items()
        ]


class ServingUnitForm(forms.Form):
    served_by = forms.ModelChoiceField(
        label="Served by",
        queryset=Party.objects.none(),
        required=False,
        empty_label="The whole organisation",
        help_text="The provider unit whose level this customer is compared with.",
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance  # the customer's party it places: its rights
        self.fields["served_by"].queryset = selectors.units_for_choice()


class ProviderUnitForm(PorticoModelForm):
    class Meta:
        model = Party
        fields = ["unit"]
        labels = {"unit": "Organisation unit"}
        help_texts = {
            "unit": (
                "The organisation unit assessed, e.g. “Claims IT”; units are added and renamed "
                "on the Organisation page."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.required = True
        field.queryset = selectors.units_to_assess(self.instance)


class SelfAssessmentForm(PorticoModelForm):
    class Meta:
        model = BalanceSelfAssessment
        fields = [
            "assessed_on",
            "customer_focus",
            "process_orientation",
            "cost_optimisation",
            "note",
        ]
        widgets = {"assessed_on": DATE_INPUT}
        help_texts = {
            "customer_focus": "0–100: how customer-focused you believe the organisation is.",
            "process_orientation": "0–100: how process-oriented you believe it is.",
            "cost_optimisation": "0–100: how well you believe it knows and optimises its cost.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["assessed_on"].initial = timezone.localdate
