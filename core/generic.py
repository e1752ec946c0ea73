"""Thin, declarative views on one small base: list, detail, edit, delete.

A concrete view names its model, filterset, table, form and template; the base owns the
permission check (core.permissions), the transaction, htmx partial rendering, and the
change-log context (set by core.middleware for every request).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django_htmx.http import HttpResponseClientRedirect
from django_tables2 import RequestConfig

from core.exports import export_table
from core.permissions import can


def add_service_errors(form, exc: ValidationError) -> None:
    """Put a services error beside the fields it names (above the form for the others):
    ``form.add_error(None, exc)`` would fail on a field the form does not have."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def save_with(form, save) -> bool:
    """Validate ``form`` and hand its unsaved instance to ``save`` in one transaction."""
    if not form.is_valid():
        return False
    try:
        with transaction.atomic():
            save(form.save(commit=False))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


def partial_or_page(request, template_name: str, partial: str) -> str:
    """The partial for an htmx request that is not a boosted navigation, else the page."""
    if request.htmx and not request.htmx.boosted:
        return f"{template_name}#{partial}"
    return template_name


def redirect_after_write(request, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


MAX_PER_PAGE = 500


def paginate(table, request, *, default_per_page: int) -> None:
    """A page of ``table`` as the query asks: ``per_page`` from 1 (anything else is the
    default) up to MAX_PER_PAGE, and a page number past either end is the nearest page."""
    text = request.GET.get(table.prefixed_per_page_field, "")
    asked = int(text) if text.isascii() and text.isdigit() else 0
    per_page = min(asked, MAX_PER_PAGE) if asked >= 1 else default_per_page
    table.paginator = Paginator(table.rows, per_page)
    table.page = table.paginator.get_page(request.GET.get(table.prefixed_page_field))


class ObjectListView(LoginRequiredMixin, View):
    model = None
    filterset_class = None
    table_class = None
    template_name = "generic/object_list.html"
    title = ""
    add_url_name = ""
    export_name = ""
    per_page = 50

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, "view")

    def get_extra_context(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        filterset = self.filterset_class(request.GET or None, self.get_queryset(), request=request)
        # No filter given: every row. A bad filter: none, with the errors beside the fields.
        valid = filterset.is_valid() or not filterset.is_bound
        rows = filterset.qs if valid else filterset.queryset.none()
        # Not Table(request=…): that paginates with the query's numbers unchecked.
        table = RequestConfig(request, paginate=False).configure(self.table_class(rows))
        export = request.GET.get("export")
        if export in ("csv", "xlsx"):
            return export_table(table, export, self.export_name or self.model._meta.model_name)
        paginate(table, request, default_per_page=self.per_page)
        context = {
            "title": self.title or self.model._meta.verbose_name_plural.capitalize(),
            "filterset": filterset,
            "table": table,
            "model_meta": self.model._meta,
            "can_add": bool(self.add_url_name) and can(request.user, "add", self.model),
            "add_url": reverse(self.add_url_name) if self.add_url_name else "",
            **self.get_extra_context(),
        }
        return render(request, partial_or_page(request, self.template_name, "table"), context)


class ObjectMixin(LoginRequiredMixin):
    model = None
    lookup_field = "pk"
    lookup_url_kwarg = "pk"
    action = "view"

    def get_queryset(self):
        return self.model.objects.all()

    def get_object(self):
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg]}
        obj = self.get_queryset().filter(**lookup).first()
        if obj is None:
            raise Http404(f"No such {self.model._meta.verbose_name}")
        if not can(self.request.user, self.action, obj):
            raise PermissionDenied
        return obj


class ObjectDetailView(ObjectMixin, View):
    template_name = ""

    def get_extra_context(self, obj) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {
            "object": obj,
            "can_change": can(request.user, "change", obj),
            "can_delete": can(request.user, "delete", obj),
            **self.get_extra_context(obj),
        }
        return render(request, self.template_name, context)


class ObjectEditView(ObjectMixin, View):
    """Create (no lookup in the URL) or update an object with a form.

    A bad post re-renders the form with its errors (422, the ``form`` partial for htmx).
    Saving goes through ``save(form)``, which a view overrides to call its services function.
    """

    form_class = None
    template_name = "generic/object_edit.html"

    def is_create(self) -> bool:
        return self.lookup_url_kwarg not in self.kwargs

    def get_object(self):
        if self.is_create():
            if not can(self.request.user, "add", self.model):
                raise PermissionDenied
            return self.model()
        self.action = "change"
        return super().get_object()

    def get_form(self, obj, data=None):
        return self.form_class(data, instance=obj, user=self.request.user)

    def save(self, form):
        return form.save()

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def render_form(self, obj, form, status=200):
        context = {
            "object": obj if obj.pk else None,
            "form": form,
            "model_meta": self.model._meta,
            "cancel_url": obj.get_absolute_url() if obj.pk else "",
        }
        template = partial_or_page(self.request, self.template_name, "form")
        return render(self.request, template, context, status=status)

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render_form(obj, self.get_form(obj))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    obj = self.save(form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                verb = "Created" if self.is_create() else "Saved"
                messages.success(request, f"{verb} {self.model._meta.verbose_name} “{obj}”.")
                return redirect_after_write(request, self.get_success_url(obj))
        return self.render_form(obj, form, status=422)


class ObjectDeleteView(ObjectMixin, View):
    """Confirm, then delete, or retire when cost, history or another record refers to it."""

    action = "delete"
    template_name = "generic/object_delete.html"
    list_url_name = ""

    def delete(self, obj) -> str:
        """Remove or retire ``obj``; return what happened ("deleted" or "retired")."""
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return render(request, self.template_name, {"object": obj})

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        name = str(obj)
        with transaction.atomic():
            outcome = self.delete(obj)
        messages.success(
            request, f"{outcome.capitalize()} {self.model._meta.verbose_name} “{name}”."
        )
        url = obj.get_absolute_url() if outcome == "retired" else reverse(self.list_url_name)
        return redirect_after_write(request, url)
