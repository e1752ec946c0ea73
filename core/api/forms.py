from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="What the token is for, for example “Nightly CMDB sync”.",
    )
    write = forms.BooleanField(
        required=False,
        label="May change data",
        help_text="Without it the token can only read. It never grants more than your role.",
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Expires after (days)",
        help_text="Leave empty for a token that lasts until you revoke it.",
    )
