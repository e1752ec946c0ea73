from django import forms
from django.contrib.auth import get_user_model

from core.forms import PersonChoiceField
from core.forms import PorticoModelForm
from core.forms import active_users
from core.roles import ROLES
from people.models import OrganisationUnit


class OrganisationUnitForm(PorticoModelForm):
    person_fields = ("manager",)

    class Meta:
        model = OrganisationUnit
        fields = ["name", "kind", "level", "parent", "manager"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = OrganisationUnit.objects.filter(retired_at__isnull=True)
        if self.instance.pk is not None:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents.order_by("name")  # type: ignore[attr-defined]


def unit_choice() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=OrganisationUnit.objects.filter(retired_at__isnull=True).order_by("name"),
        required=False,
        label="Organisation unit",
    )


class PersonForm(PorticoModelForm):
    """A person's account as a Portfolio manager invites or changes it: names, e-mail, roles
    and unit. A new person sets their own password through the e-mailed link."""

    # Every role the person holds: a sync, the API or a sign-in may have given several, and
    # changing a name here must not drop any of them.
    role = forms.MultipleChoiceField(
        choices=[(role, role) for role in ROLES],
        widget=forms.CheckboxSelectMultiple,
        label="Roles",
    )
    unit = unit_choice()

    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "username", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        user = self.instance
        if user.pk is not None:
            self.initial["role"] = list(
                user.groups.filter(name__in=ROLES).values_list("name", flat=True)
            )
            profile = getattr(user, "profile", None)
            self.initial["unit"] = profile.unit_id if profile else None


class DeactivateForm(forms.Form):
    """Who takes over what the person owns (none needed when they own nothing in use)."""

    successor = PersonChoiceField(
        queryset=active_users(),
        required=False,
        to_field_name="username",
        help_text="Takes over every service, value stream, application, contract and "
        "customer the person owns.",
    )

    def __init__(self, *args, leaver=None, **kwargs):
        super().__init__(*args, **kwargs)
        if leaver is not None:
            field = self.fields["successor"]
            field.queryset = active_users().exclude(pk=leaver.pk)  # type: ignore[attr-defined]
