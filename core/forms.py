from django import forms


class PorticoModelForm(forms.ModelForm):
    """A model form that knows who is editing (for choices that depend on the user)."""

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3  # Django sets 10: too tall for inline forms
