"""The people page (accounts, roles, units, what each owns; invite, change, deactivate with
hand-over), for Portfolio managers, and the organisation units' pages, for everyone."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from core.forms import LanguageForm
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import ObjectMixin
from core.generic import add_service_errors
from core.generic import partial_or_page
from core.generic import redirect_after_write
from core.generic import register_model_view
from core.permissions import can
from core.views import ProfileView
from people import selectors
from people import services
from people.filtersets import OrganisationUnitFilterSet
from people.filtersets import PersonFilterSet
from people.forms import DeactivateForm
from people.forms import OrganisationUnitForm
from people.forms import PersonForm
from people.models import OrganisationUnit
from people.tables import OrganisationUnitTable
from people.tables import PersonTable

User = get_user_model()

# --- Organisation units ------------------------------------------------------------------------


@register_model_view("list")
class OrganisationUnitListView(ObjectListView):
    filterset_class = OrganisationUnitFilterSet
    table_class = OrganisationUnitTable
    title = "Organisation units"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("parent", "manager")
            .annotate(member_count=Count("members"))
        )


# What belongs to a unit, as its page lists it: (heading, related name, list page, filter).
BELONGING = (
    ("Services", "services", "portfolio:service_list"),
    ("Applications", "applications", "portfolio:application_list"),
    ("Value streams", "value_streams", "valuestreams:valuestream_list"),
    ("Customers", "customers", "portfolio:customer_list"),
    ("Suppliers", "suppliers", "portfolio:supplier_list"),
    ("Cost pools", "cost_pools", "finance:pool_list"),
)


@register_model_view("detail")
class OrganisationUnitDetailView(ObjectDetailView):
    queryset = OrganisationUnit.objects.select_related("parent", "manager")

    def get_extra_context(self, unit):
        below = selectors.unit_subtree_ids([unit.pk])
        belonging = []
        for heading, related_name, list_name in BELONGING:
            model = OrganisationUnit._meta.get_field(related_name).related_model
            count = model._base_manager.filter(unit_id__in=below).count()
            belonging.append((heading, count, f"{reverse(list_name)}?unit={unit.slug}"))
        return {
            "children": unit.children.select_related("manager").order_by("name"),
            "members": selectors.unit_members(unit).select_related("profile"),
            "belonging": belonging,
            "can_see_people": can(self.request.user, "view", User),
        }


@register_model_view("add", "edit")
class OrganisationUnitEditView(ObjectEditView):
    model = OrganisationUnit
    form_class = OrganisationUnitForm
    save_function = services.save_unit


@register_model_view("delete")
class OrganisationUnitDeleteView(ObjectDeleteView):
    model = OrganisationUnit
    remove_function = services.remove_unit


# --- People ------------------------------------------------------------------------------------


# Django's accounts live in the auth app, whose name is not a namespace of these pages: they
# are routed by name (people/urls.py), not by core.generic.model_paths.


class PersonListView(ObjectListView):
    model = User
    filterset_class = PersonFilterSet
    table_class = PersonTable
    title = "People"
    template_name = "people/person_list.html"
    export_name = "people"
    show_add = False

    def get_queryset(self):
        services.require_people_manager(self.request.user)
        return selectors.people()

    def get_extra_context(self) -> dict:
        return {"can_add": True, "add_url": reverse("people:person_add")}


class PersonMixin(ObjectMixin):
    model = User

    def get_queryset(self):
        return selectors.people()


class PersonDetailView(PersonMixin, ObjectDetailView):
    template_name = "people/person_detail.html"

    def get_extra_context(self, person):
        owned = selectors.owned_records(person)
        return {
            "owned": owned,
            "owns_anything": any(owned.values()),
            "roles": [group.name for group in person.groups.all()],
            "model_meta": User._meta,
            "can_change": can(self.request.user, "change", person),
            "can_delete": False,
            "list_url": reverse("people:person_list"),
            "edit_url": reverse("people:person_edit", args=[person.pk]),
            "delete_url": "",
        }


class PersonEditView(PersonMixin, ObjectEditView):
    """Invite a person (a new account, e-mailed a link to set a password) or change one's
    names, e-mail, roles and unit."""

    form_class = PersonForm
    template_name = "people/person_form.html"

    def save(self, form):
        user, data = form.save(commit=False), form.cleaned_data
        if self.is_create():
            site = f"{self.request.scheme}://{self.request.get_host()}"
            return services.invite_person(
                user=user,
                by=self.request.user,
                role_names=data["role"],
                unit=data["unit"],
                site=site,
            )
        return services.save_person(
            user=user, by=self.request.user, role_names=data["role"], unit=data["unit"]
        )

    def get_success_url(self, obj) -> str:
        return reverse("people:person_detail", args=[obj.pk])

    def render_form(self, obj, form, status=200):
        context = {"object": obj if obj.pk else None, "form": form, "model_meta": User._meta}
        template = partial_or_page(self.request, self.template_name, "form")
        return render(self.request, template, context, status=status)

    def success_message(self, obj) -> str:
        if self.is_create():
            return f"Invited {obj.get_full_name() or obj.username}: the e-mail is on its way."
        return f"Saved {obj.get_full_name() or obj.username}."


class PersonDeactivateView(PersonMixin):
    """Deactivate a person, handing what they own over to a successor."""

    action = "change"
    template_name = "people/person_deactivate.html"

    def render_form(self, person, form, status=200):
        owned = selectors.owned_records(person)
        context = {
            "object": person,
            "form": form,
            "owned": owned,
            "owns_anything": any(owned.values()),
        }
        template = partial_or_page(self.request, self.template_name, "form")
        return render(self.request, template, context, status=status)

    def get(self, request, *args, **kwargs):
        person = self.get_object()
        return self.render_form(person, DeactivateForm(leaver=person))

    def post(self, request, *args, **kwargs):
        person = self.get_object()
        form = DeactivateForm(request.POST, leaver=person)
        if form.is_valid():
            successor = form.cleaned_data["successor"]
            try:
                moved = services.deactivate_user(person, by=request.user, successor=successor)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                handed = f", handing {len(moved)} records to {successor}" if moved else ""
                messages.success(request, f"Deactivated {person.username}{handed}.")
                return redirect_after_write(
                    request, reverse("people:person_detail", args=[person.pk])
                )
        return self.render_form(person, form, status=422)


# --- One's own language ------------------------------------------------------------------------


class LanguageView(ProfileView):
    """The language a person reads Portico in, chosen on their profile page; the page is
    answered again in it."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = LanguageForm(request.POST)
        if form.is_valid():
            try:
                services.set_language(user=request.user, language=form.cleaned_data["language"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("profile"))
        return render(request, self.template_name, self.get_context(language_form=form), status=422)
