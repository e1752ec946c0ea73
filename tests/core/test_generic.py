from django import forms
from django.core.exceptions import ValidationError

from core.generic import add_service_errors


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_services_error_goes_beside_its_field_or_above_the_form():
    form = NameForm({"name": "Claims"})
    assert form.is_valid()
    # A rule in services.py may name a field this form does not show (add_error would raise).
    add_service_errors(form, ValidationError({"name": "Taken.", "owner": "Needed when live."}))
    assert form.errors == {"name": ["Taken."], "__all__": ["Needed when live."]}
    add_service_errors(form, ValidationError("Closed."))
    assert form.non_field_errors() == ["Needed when live.", "Closed."]
