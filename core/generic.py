"""Thin, declarative views on one small base: list, detail, edit, delete.

A concrete view names its model (or queryset), filterset, table, form, the services function
it writes through, and the pages it is of its model (``register_model_view``, routed by
``model_paths``); the base owns the permission check (core.permissions), the transaction, htmx
partial rendering, and the change-log context (set by core.middleware for every request).
"""

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model
from django.db.models import QuerySet
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.urls import reverse
from django.utils.text import slugify
from django.views import View
from django_filters import FilterSet
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails
from django_tables2 import RequestConfig
from django_tables2 import Table

from core import services as core_services
from core.exports import export_table
from core.finder import visible
from core.forms import ChangeFromMonthForm
from core.forms import PorticoModelForm
from core.numbers import whole_number
from core.permissions import can
from core.permissions import require
from core.permissions import restricted
from core.slugs import generated_from
from core.tables import ListData
from core.templatetags.portico import plain_number

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class PageRequest(HttpRequest):
    """A request as the views below see it: signed in (LoginRequiredMixin), and described
    by django-htmx's middleware (``htmx``)."""

    user: "User"
    htmx: HtmxDetails


# The button that creates a record although others have its name (ObjectEditView.namesakes).
CREATE_ANYWAY = "create_anyway"


def add_service_errors(form, exc: ValidationError) -> None:
    """Put a services error beside the fields it names (above the form for the others):
    ``form.add_error(None, exc)`` would fail on a field the form does not have."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def save_with(form, save, *, user) -> tuple[bool, object]:
    """Validate ``form`` and hand it to ``save`` (which calls services) in one transaction,
    if ``user`` may write what the form asks for (a record moved under another parent).
    Returns whether it saved, and what ``save`` returned."""
    if not form.is_valid():
        return False, None
    require(user, "add" if form.instance.pk is None else "change", form.instance)
    try:
        with transaction.atomic():
            saved = save(form)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False, None
    return True, saved


def call_service(function: Callable[..., Any], record, **available):
    """Call a services function with ``record`` as its first parameter, by that parameter's
    name (``save_customer(customer=record)``: services take keyword arguments named after what
    they are), and with those of ``available`` (the signed-in ``user``) that it takes."""
    parameters = inspect.signature(function).parameters
    extra = {name: value for name, value in available.items() if name in parameters}
    return function(**{next(iter(parameters)): record}, **extra)


def save_form(form, save_function: Callable[..., Any] | None, *, user):
    """Save ``form`` through ``save_function``, its services function (with the form's
    unsaved record): a form never saves itself past the rules."""
    if save_function is None:
        raise ImproperlyConfigured(f"{type(form).__name__} is saved by no services function")
    return call_service(save_function, form.save(commit=False), user=user)


def refused_status(form) -> int:
    """409 when the form was refused because someone saved the record meanwhile (both
    values shown), else 422."""
    return 409 if getattr(form, "has_conflict", False) else 422


def partial_or_page(request, template_name: str, partial: str) -> str:
    """The partial for an htmx request that is not a boosted navigation, else the page."""
    if request.htmx and not request.htmx.boosted:
        return f"{template_name}#{partial}"
    return template_name


def redirect_after_write(request, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


MAX_PER_PAGE = 1000


def paginate(table, request, *, default_per_page: int) -> None:
    """A page of ``table`` as the query asks: ``per_page`` from 1 (anything else is the
    default) up to MAX_PER_PAGE, and a page number past either end is the nearest page."""
    text = request.GET.get(table.prefixed_per_page_field, "")
    asked = whole_number(text) or 0
    per_page = min(asked, MAX_PER_PAGE) if asked >= 1 else default_per_page
    table.paginator = Paginator(table.rows, per_page)
    table.page = table.paginator.get_page(request.GET.get(table.prefixed_page_field))


class ObjectListView(LoginRequiredMixin, View):
    """The records of ``model`` the user may see, filtered by ``filterset_class`` (whose model
    it is, unless the view names another) and shown by ``table_class``, a page at a time or
    exported."""

    request: PageRequest
    model: type[Model]
    filterset_class: type[FilterSet]
    table_class: type[Table]
    template_name = ""  # default: <app_label>/<model_name>_list.html, else the generic list
    title = ""
    show_add = True  # the model's add page, when it has one, behind an Add button
    export_name = ""  # default: the model's plural name, slugified (``cost-items``)
    per_page = 50

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "filterset_class" in cls.__dict__ and "model" not in cls.__dict__:
            cls.model = cls.filterset_class._meta.model

    def get_queryset(self):
        return restricted(self.model).restrict(self.request.user, "view")

    def get_template_names(self) -> list[str]:
        """The view's template, or, as Django's ListView looks for it, the model's list
        template, else the generic list."""
        if self.template_name:
            return [self.template_name]
        meta = self.model._meta
        return [f"{meta.app_label}/{meta.model_name}_list.html", "generic/object_list.html"]

    def get_extra_context(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        filterset = self.filterset_class(request.GET or None, self.get_queryset(), request=request)
        # No filter given: every row. A bad filter: none, with the errors beside the fields.
        valid = filterset.is_valid() or not filterset.is_bound
        rows = filterset.qs if valid else filterset.queryset.none()
        # Not Table(request=…): that paginates with the query's numbers unchecked.
        table = RequestConfig(request, paginate=False).configure(self.table_class(ListData(rows)))
        export = request.GET.get("export")
        if export in ("csv", "xlsx"):
            name = self.export_name or slugify(str(self.model._meta.verbose_name_plural))
            return export_table(table, export, name)
        paginate(table, request, default_per_page=self.per_page)
        add_url = page_url(self.model, "add") if self.show_add else ""
        context = {
            "title": self.title or str(self.model._meta.verbose_name_plural).capitalize(),
            "filterset": filterset,
            "table": table,
            "model_meta": self.model._meta,
            "can_add": bool(add_url) and can(request.user, "add", self.model),
            "add_url": add_url,
            **self.get_extra_context(),
        }
        templates = [partial_or_page(request, name, "table") for name in self.get_template_names()]
        return render(request, templates, context)


class ObjectMixin(LoginRequiredMixin, View):
    """A view of one record, named in its address by ``pk`` or, for a model with a slug, by
    ``slug`` (as Django's SingleObjectMixin finds it); ``get_object`` asks core.permissions
    whether the user may ``action`` it."""

    request: PageRequest
    kwargs: dict[str, Any]
    model: type[Model]
    queryset: QuerySet | None = None  # where to find the record; default: all of ``model``
    action = "view"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        queryset = cls.__dict__.get("queryset")
        if queryset is not None and "model" not in cls.__dict__:
            cls.model = queryset.model  # a view that names its queryset names its model

    def get_queryset(self):
        if self.queryset is not None:
            return self.queryset.all()
        return self.model._default_manager.all()

    def lookup_field(self) -> str | None:
        """The field by which the address names the record (None: it names none)."""
        return next((field for field in ("pk", "slug") if field in self.kwargs), None)

    def get_object(self):
        field = self.lookup_field()
        assert field is not None, "the address names no record"
        obj = self.get_queryset().filter(**{field: self.kwargs[field]}).first()
        if obj is None:
            raise Http404(f"No such {self.model._meta.verbose_name}")
        require(self.request.user, self.action, obj)
        return obj


def detail_template(model: type[Model]) -> str:
    """A model's detail page, by Django's convention: ``<app_label>/<model_name>_detail.html``."""
    return f"{model._meta.app_label}/{model._meta.model_name}_detail.html"


class ObjectDetailView(ObjectMixin, View):
    """A record's page (extending generic/object_detail.html, with ``record_pages``)."""

    template_name = ""  # default: the model's detail_template

    def get_extra_context(self, obj) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {
            "object": obj,
            **record_pages(obj),
            "can_change": can(request.user, "change", obj),
            "can_delete": can(request.user, "delete", obj),
            **self.get_extra_context(obj),
        }
        return render(request, self.template_name or detail_template(self.model), context)


class ObjectEditView(ObjectMixin, View):
    """Create (no lookup in the URL) or update an object with a form.

    A bad post re-renders the form with its errors (422, the ``form`` partial for htmx).
    Saving goes through ``save(form)``, in one transaction (``save_with``: the rights on what
    the form asks for first): ``save_function``, the services function that saves the form's
    record (``call_service``), or a view's own ``save`` where it needs more.
    """

    form_class: type[PorticoModelForm]
    template_name = "generic/object_edit.html"
    save_function: ClassVar[Callable[..., Any] | None] = None

    def is_create(self) -> bool:
        return self.lookup_field() is None

    def get_object(self):
        if self.is_create():
            require(self.request.user, "add", self.model)
            return self.model()
        self.action = "change"
        return super().get_object()

    def get_form(self, obj, data=None):
        return self.form_class(data, instance=obj, user=self.request.user)

    def save(self, form):
        return save_form(form, type(self).save_function, user=self.request.user)

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def success_message(self, obj) -> str:
        verb = "Created" if self.is_create() else "Saved"
        return f"{verb} {self.model._meta.verbose_name} “{obj}”."

    def namesakes(self, form) -> dict:
        """On creating a record whose slug is made from its name (core.slugs), the records
        of that name already there: the form asks to confirm (CREATE_ANYWAY) before making
        a second one. {} when there are none, or the person confirmed."""
        field = generated_from(self.model)
        if not field or not self.is_create() or self.request.POST.get(CREATE_ANYWAY):
            return {}
        if not form.is_valid() or form.cleaned_data.get("slug"):
            return {}
        same = core_services.namesakes(self.model, str(form.cleaned_data.get(field) or ""))
        seen = list(same.filter(pk__in=visible(self.model, self.request.user).values("pk"))[:5])
        total = same.count()
        if not total:
            return {}
        return {"name": form.cleaned_data[field], "records": seen, "unseen": total - len(seen)}

    def get_form_context(self, obj, form) -> dict:
        """What the form's page shows besides the form (a rule's test against a file)."""
        return {}

    def render_form(self, obj, form, status=200, namesakes=None):
        context = {
            "object": obj if obj.pk else None,
            "form": form,
            "namesakes": namesakes or {},
            "create_anyway": CREATE_ANYWAY,
            "model_meta": self.model._meta,
            "cancel_url": obj.get_absolute_url() if obj.pk else "",
            **self.get_form_context(obj, form),
        }
        template = partial_or_page(self.request, self.template_name, "form")
        return render(self.request, template, context, status=status)

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render_form(obj, self.get_form(obj))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        namesakes = self.namesakes(form)
        if namesakes:
            return self.render_form(obj, form, status=422, namesakes=namesakes)
        saved, result = save_with(form, self.save, user=request.user)
        if saved:
            messages.success(request, self.success_message(result))
            return redirect_after_write(request, self.get_success_url(result))
        return self.render_form(obj, form, status=refused_status(form))


class ObjectDeleteView(ObjectMixin, View):
    """Confirm, then delete, or retire when cost, history or another record refers to it:
    ``remove_function`` is the services function that does it (``call_service``). Given a
    ``dependents_function`` (what keeps the record from being deleted), the page says
    beforehand which it will be, and why."""

    action = "delete"
    template_name = "generic/object_delete.html"
    list_url_name = ""  # where to go after deleting; default: the model's list
    remove_function: ClassVar[Callable[..., Any]]
    dependents_function: ClassVar[Callable[..., list[str]] | None] = None

    def delete(self, obj) -> str | None:
        """Remove or retire ``obj``; return what happened ("deleted" or "retired"; None:
        deleted)."""
        return call_service(type(self).remove_function, obj)

    def success_message(self, obj, outcome: str, name: str) -> str:
        return f"{outcome.capitalize()} {self.model._meta.verbose_name} “{name}”."

    def get_success_url(self, obj, outcome: str) -> str:
        if outcome == "retired":
            return obj.get_absolute_url()
        return reverse(self.list_url_name) if self.list_url_name else page_url(self.model, "list")

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context: dict[str, Any] = {
            "object": obj,
            "noun": obj._meta.verbose_name,
            "explained": False,
        }
        dependents_function = type(self).dependents_function
        if dependents_function is not None:
            context["explained"] = True
            context["dependents"] = call_service(dependents_function, obj)
        return render(request, self.template_name, context)

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        name = str(obj)
        with transaction.atomic():
            outcome = self.delete(obj) or "deleted"
        messages.success(request, self.success_message(obj, outcome, name))
        return redirect_after_write(request, self.get_success_url(obj, outcome))


# --- Rows edited in place on their parent's page ---------------------------------------------


def allowed_pks(queryset, user, action: str) -> set[int]:
    """The ids of the rows of ``queryset`` that ``user`` may ``action``, in one query."""
    return set(queryset.restrict(user, action).values_list("pk", flat=True))


class SectionMixin(LoginRequiredMixin, View):
    """A view that answers with a section of its parent's page: the section as an htmx
    partial (``template_name#section``), or, for a plain request, the parent's page at the
    section's anchor, so that every action also works without JavaScript. The section shows
    rows of ``model`` that lead to the parent through ``parent_field``."""

    request: PageRequest
    kwargs: dict[str, Any]
    parent_model: type[Model] | None = None  # default: the model parent_field leads to
    parent_queryset: QuerySet | None = None  # where to find the parent; default: all of them
    parent_lookup = "slug"  # the parent's field
    parent_kwarg = ""  # its name in the URL, when not the field's
    template_name = ""  # the parent's page (default: its detail_template)
    section = ""  # the partial of that page
    anchor = ""  # the section's id on the page (default: the partial's name)
    model: type[Model]  # the section's rows
    parent_field = ""  # the row's lookup to the page's parent (``subscription__customer``)

    def get_parent_model(self) -> type[Model]:
        if self.parent_model is not None:
            return self.parent_model
        model = self.model
        for name in self.parent_field.split("__"):
            related = model._meta.get_field(name).related_model
            assert isinstance(related, type), f"{model.__name__}.{name} leads to no model"
            model = related
        return model

    def get_parent_queryset(self):
        if self.parent_queryset is not None:
            return self.parent_queryset.all()
        return self.get_parent_model()._default_manager.all()

    def get_parent(self):
        value = self.kwargs[self.parent_kwarg or self.parent_lookup]
        parent = self.get_parent_queryset().filter(**{self.parent_lookup: value}).first()
        if parent is None:
            raise Http404(f"No such {self.get_parent_model()._meta.verbose_name}")
        return parent

    def get_row_queryset(self, parent):
        return self.model._default_manager.filter(**{self.parent_field: parent})

    def get_row(self, parent, action: str):
        """The parent's row the address names (``pk``), if the user may ``action`` it."""
        row = self.get_row_queryset(parent).filter(pk=self.kwargs["pk"]).first()
        if row is None:
            raise Http404(f"No such {self.model._meta.verbose_name}")
        require(self.request.user, action, row)
        return row

    def section_context(self, parent, *, form=None, row=None) -> dict:
        """The context of the section, with ``form`` open (on ``row``, or a new row)."""
        raise NotImplementedError

    def section_response(self, parent, *, form=None, row=None, status=200, anchor=""):
        if not self.request.htmx:
            anchor = anchor or self.anchor or self.section
            return HttpResponseRedirect(f"{parent.get_absolute_url()}#{anchor}")
        context = self.section_context(parent, form=form, row=row)
        template = self.template_name or detail_template(type(parent))
        return render(self.request, f"{template}#{self.section}", context, status=status)


class ChildEditView(SectionMixin, View):
    """Add (no ``pk`` in the URL) or edit a row of its parent's page (a customer's
    subscription), as NetBox's child-object views do, with htmx.

    GET opens the form in the section; POST validates it, asks core.permissions about the
    row as the form leaves it, and saves it through ``save(form)`` (``save_function``, as
    ObjectEditView's) in one transaction: the section again, or 422 with the errors beside
    their fields. Without JavaScript the open form is a page of its own.
    """

    form_class: type[PorticoModelForm]
    form_template = "generic/child_form.html"
    save_function: ClassVar[Callable[..., Any] | None] = None

    def save(self, form):
        return save_form(form, type(self).save_function, user=self.request.user)

    def new_row(self, parent):
        return self.model(**{self.parent_field: parent})

    def get_form_row(self, parent):
        """A new row of the parent (no ``pk`` in the URL) the user may add, or the row to edit."""
        if "pk" in self.kwargs:
            return self.get_row(parent, "change")
        row = self.new_row(parent)
        require(self.request.user, "add", row)
        return row

    def get_form(self, row, data=None):
        return self.form_class(data, instance=row, user=self.request.user)

    def saved_response(self, parent, row):
        return self.section_response(parent, row=row, anchor=self.saved_anchor(row))

    def saved_anchor(self, row) -> str:
        return ""

    def form_response(self, parent, row, form, status: int = 200):
        if not self.request.htmx:
            context = {
                "form": form,
                "model_meta": self.model._meta,
                "parent": parent,
                "cancel_url": parent.get_absolute_url(),
            }
            return render(self.request, self.form_template, context, status=status)
        return self.section_response(parent, form=form, row=row, status=status)

    def get(self, request, *args, **kwargs):
        parent = self.get_parent()
        row = self.get_form_row(parent)
        return self.form_response(parent, row, self.get_form(row))

    def post(self, request, *args, **kwargs):
        parent = self.get_parent()
        row = self.get_form_row(parent)
        form = self.get_form(row, request.POST)
        saved, _ = save_with(form, self.save, user=request.user)
        if saved:
            return self.saved_response(parent, form.instance)
        return self.form_response(parent, row, form, status=refused_status(form))


class ChildActionView(SectionMixin, View):
    """A POST on a row of its parent's page (remove it, move it up), if core.permissions
    allows ``action`` on it; ``perform(row)`` is the services call, in one transaction."""

    http_method_names = ["post"]
    action = "change"

    def perform(self, row) -> None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        parent = self.get_parent()
        row = self.get_row(parent, self.action)
        with transaction.atomic():
            self.perform(row)
        return self.section_response(parent, row=row)


class ChildDeleteView(ChildActionView):
    """Remove a row of its parent's page through ``remove_function``, its services function
    (``call_service``)."""

    action = "delete"
    remove_function: ClassVar[Callable[..., Any]]

    def perform(self, row) -> None:
        call_service(type(self).remove_function, row)


# --- Actions on one record, and pages -------------------------------------------------------


class ObjectActionView(ObjectMixin, View):
    """A POST that does one thing to a record (close a period, run a report now) if
    core.permissions allows ``action``; ``perform(obj)`` is the services call
    (``perform_function``), in one transaction (unless ``atomic`` is False: a unit of work
    that commits its own steps, as a roll-up does), and ``done(obj, result)`` the answer."""

    http_method_names = ["post"]
    action = "change"
    atomic = True
    perform_function: ClassVar[Callable[..., Any]]

    def perform(self, obj):
        """``perform_function``, the services function, on ``obj`` (``call_service``)."""
        return call_service(type(self).perform_function, obj, user=self.request.user)

    def failed(self, obj, exc: ValidationError) -> HttpResponse:
        messages.error(self.request, " ".join(exc.messages))
        return redirect_after_write(self.request, obj.get_absolute_url())

    def done(self, obj, result) -> HttpResponse:
        return redirect_after_write(self.request, obj.get_absolute_url())

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            if self.atomic:
                with transaction.atomic():
                    result = self.perform(obj)
            else:
                result = self.perform(obj)
        except ValidationError as exc:
            return self.failed(obj, exc)
        return self.done(obj, result)


class ChangeFromMonthView(ObjectMixin, View):
    """Change an effective-dated edge from a month on, on a page of its own: the user picks a
    month and a new weight; ``change_function`` (the services function, with the edge,
    ``month``, ``weight`` and ``user``) ends the edge with the month before and starts its
    successor, in one transaction. Back to the edge's parent page (``parent_of``) at
    ``anchor``."""

    action = "change"
    template_name = "generic/change_from_month.html"
    change_function: ClassVar[Callable[..., Any]]
    anchor = ""
    # The parent the address names, as {URL keyword: lookup from the edge}: an edge is found
    # only under the parent in its address ({"slug": "consumer__slug"}).
    parent_in_address: ClassVar[dict[str, str]] = {}

    def parent_of(self, edge) -> Any:
        raise NotImplementedError

    def get_queryset(self):
        named = {lookup: self.kwargs[kwarg] for kwarg, lookup in self.parent_in_address.items()}
        return super().get_queryset().filter(**named)

    def render_form(self, edge, form, status=200):
        parent = self.parent_of(edge)
        context = {
            "object": edge,
            "parent": parent,
            "form": form,
            "model_meta": self.model._meta,
            "cancel_url": f"{parent.get_absolute_url()}#{self.anchor}",
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        edge = self.get_object()
        return self.render_form(edge, ChangeFromMonthForm(edge=edge))

    def post(self, request, *args, **kwargs):
        edge = self.get_object()
        form = ChangeFromMonthForm(request.POST, edge=edge)
        if form.is_valid():
            try:
                with transaction.atomic():
                    successor = call_service(
                        type(self).change_function,
                        edge,
                        month=form.cleaned_data["month"],
                        weight=form.cleaned_data["weight"],
                        user=request.user,
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"“{successor}” has the weight {plain_number(successor.weight)} from "
                    f"{successor.valid_from:%Y-%m-%d}.",
                )
                parent = self.parent_of(edge)
                return redirect_after_write(request, f"{parent.get_absolute_url()}#{self.anchor}")
        return self.render_form(edge, form, status=422)


class PageView(LoginRequiredMixin, View):
    """A page about many records (an overview, a board, a report): readable by whoever may
    ``view`` its ``model``; ``get_context()`` gives what it shows, and an htmx request that is
    not a boosted navigation gets the ``partial`` alone."""

    http_method_names = ["get", "head"]
    request: PageRequest
    model: type[Model] | None = None
    template_name = ""
    partial = ""

    def get_context(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        if self.model is not None:
            require(request.user, "view", self.model)
        template = (
            partial_or_page(request, self.template_name, self.partial)
            if self.partial
            else self.template_name
        )
        return render(request, template, self.get_context())


# --- Addresses ---------------------------------------------------------------------------------

# The pages a model may have (as NetBox's ``register_model_view`` names them), in the order
# ``model_paths`` tries them: kind -> (route under the model's prefix, the URL name's suffix).
MODEL_ROUTES = {
    "list": ("", "list"),
    "add": ("new/", "add"),
    "edit": ("{key}/edit/", "edit"),
    "detail": ("{key}/", "detail"),
    "delete": ("{key}/remove/", "delete"),
    "remove": ("{key}/remove/", "remove"),  # a row of its parent's page
    "change_from_month": ("{key}/change-from-month/", "change_from_month"),  # an edge
}
model_views: dict[type[Model], dict[str, type[View]]] = {}
# How model_paths named and keyed each model's addresses: (name, the key's field).
model_routes: dict[type[Model], tuple[str, str]] = {}


def register_model_view(*kinds: str):
    """Class decorator: the view is its ``model``'s page of each of ``kinds`` (``list``,
    ``add``, ``edit``, ``detail``, ``delete``, or ``remove`` for a row edited on its parent's
    page), which ``model_paths`` routes."""

    def register(view):
        pages = model_views.setdefault(view.model, {})
        for kind in kinds:
            if kind not in MODEL_ROUTES:
                raise ImproperlyConfigured(f"{view.__qualname__}: no such page as {kind!r}")
            known = pages.setdefault(kind, view)
            if known.__qualname__ != view.__qualname__:  # not the same module imported again
                raise ImproperlyConfigured(f"{known.__qualname__} is already {kind!r}")
            pages[kind] = view
        return view

    return register


# The path converter of an address's key, by the attribute it names (any other: str).
KEY_CONVERTERS = {"pk": "int", "slug": "slug"}


def url_key(model: type[Model]) -> str:
    """How an address names a record of ``model``: by the attribute the model declares as its
    ``url_key`` (``core.models.ChangeLoggedModel``: the pk unless it says its slug or label),
    the same one its ``get_absolute_url`` reverses with."""
    attribute = getattr(model, "url_key", "pk")
    return f"<{KEY_CONVERTERS.get(attribute, 'str')}:{attribute}>"


def model_paths(prefix: str, model: type[Model], *, name: str = "", add_route: str = "") -> list:
    """The addresses of the pages registered for ``model``: ``list`` at ``prefix``, ``add``
    at ``prefix/new/`` (or ``add_route``, for a row added under a parent it names),
    ``edit`` at ``prefix/<key>/edit/``, ``detail`` at ``prefix/<key>/``, ``delete`` and
    ``remove`` at ``prefix/<key>/remove/``; named ``<name>_list``, ``<name>_add``... (``name``:
    the model's name; ``<key>``: ``url_key``). Fixed addresses beside them (``prefix/mine/``)
    go before these."""
    pages = model_views.get(model, {})
    name = name or str(model._meta.model_name)
    key = url_key(model)
    model_routes[model] = (name, key.strip("<>").partition(":")[2])
    routes = []
    for kind, (route, suffix) in MODEL_ROUTES.items():
        if kind in pages:
            address = add_route if kind == "add" and add_route else prefix + route.format(key=key)
            routes.append(path(address, pages[kind].as_view(), name=f"{name}_{suffix}"))
    return routes


def page_url(model: type[Model], kind: str, record: Model | None = None) -> str:
    """The address of ``model``'s ``kind`` page (of ``record``, for a page about one), or ""
    when the model has none: ``model_paths`` routed its pages (the URL conf is loaded by the
    time a request is answered) in its app's namespace."""
    if model not in model_routes or kind not in model_views.get(model, {}):
        return ""
    name, field = model_routes[model]
    args = [] if record is None else [getattr(record, field)]
    return reverse(f"{model._meta.app_label}:{name}_{MODEL_ROUTES[kind][1]}", args=args)


def record_pages(record: Model) -> dict[str, Any]:
    """What generic/object_detail.html links a record's page to: its model's list, and its
    own edit and delete pages."""
    model = type(record)
    delete_view: Any = model_views.get(model, {}).get("delete")
    return {
        "model_meta": model._meta,
        "list_url": page_url(model, "list"),
        "edit_url": page_url(model, "edit", record),
        "delete_url": page_url(model, "delete", record),
        # The remove page says whether it deletes or retires, and why: the button leads there.
        "delete_explained": getattr(delete_view, "dependents_function", None) is not None,
    }
