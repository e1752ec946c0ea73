from django import forms

from notifications.choices import Delivery
from notifications.choices import EventKind


class PreferencesForm(forms.Form):
    """One choice of delivery per kind of event, starting from what applies now."""

    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in EventKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label, choices=Delivery.choices, initial=current[kind.value]
            )


class MarkReadForm(forms.Form):
    """The notifications to mark read; none named: all of them."""

    notification = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
