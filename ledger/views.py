"""The general ledger in the browser: the imported periods with their unmapped bucket and an
upload, a period's lines by rule, the mapping rules (tested against a file before they are
saved) and a page that tests the stored rules against a file."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from cloud.views import file_errors
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import PageView
from core.generic import partial_or_page
from core.generic import redirect_after_write
from core.generic import register_model_view
from core.permissions import can
from core.permissions import require
from core.permissions import restricted
from ledger import files
from ledger import selectors
from ledger import services
from ledger.filtersets import LedgerLineFilterSet
from ledger.filtersets import LedgerRuleFilterSet
from ledger.forms import LedgerRuleForm
from ledger.forms import LedgerTestForm
from ledger.forms import LedgerUploadForm
from ledger.models import LedgerImport
from ledger.models import LedgerRule
from ledger.tables import LedgerLineTable
from ledger.tables import LedgerRuleTable

SECTION = "ledger"


def column_help() -> list[tuple[str, tuple[str, ...]]]:
    """The columns a ledger file may have, with the header names each is found by."""
    return [(files.LABELS[column], names) for column, names in files.COLUMNS.items()]


class LedgerOverviewView(PageView):
    """The imported periods, newest first, with their unmapped lines, and the upload."""

    model = LedgerImport
    template_name = "ledger/overview.html"

    def get_context(self) -> dict:
        user = self.request.user
        imports = restricted(LedgerImport).restrict(user, "view").order_by("-period__serial")
        return {
            "section": SECTION,
            "imports": selectors.imports_with_totals(imports[:120]),
            "form": LedgerUploadForm(),
            "can_import": can(user, "add", LedgerImport),
            "columns": column_help(),
        }


class LedgerUploadView(LoginRequiredMixin, View):
    """POST a ledger file: every period in it is imported, all or nothing."""

    template_name = "ledger/upload.html"

    def get(self, request, *args, **kwargs):
        require(request.user, "add", LedgerImport)
        return self.render_form(LedgerUploadForm())

    def render_form(self, form, status=200):
        template = partial_or_page(self.request, self.template_name, "form")
        context = {"form": form, "section": SECTION, "columns": column_help()}
        return render(self.request, template, context, status=status)

    def post(self, request, *args, **kwargs):
        require(request.user, "add", LedgerImport)
        form = LedgerUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form, status=422)
        upload = form.cleaned_data["file"]
        try:
            results = services.import_ledger(
                stream=upload, name=upload.name or "", user=request.user
            )
        except ValidationError as exc:
            file_errors(form, exc, field="file")
            return self.render_form(form, status=422)
        for result in results:
            messages.success(
                request,
                f"Ledger {result.period_label}: {result.outcome}, {result.lines} lines "
                f"({result.unmapped_lines} unmapped).",
            )
        return redirect_after_write(request, reverse("ledger:overview"))


class LedgerTestView(LoginRequiredMixin, View):
    """POST a ledger file: what each stored rule, by priority, would take of it, and what
    would stay unmapped. Saves nothing."""

    template_name = "ledger/test.html"

    def render_page(self, form, outcome=None, status=200):
        template = partial_or_page(self.request, self.template_name, "form")
        context = {"form": form, "outcome": outcome, "section": SECTION}
        return render(self.request, template, context, status=status)

    def get(self, request, *args, **kwargs):
        require(request.user, "view", LedgerRule)
        return self.render_page(LedgerTestForm())

    def post(self, request, *args, **kwargs):
        require(request.user, "view", LedgerRule)
        form = LedgerTestForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form, status=422)
        upload = form.cleaned_data["file"]
        try:
            outcome = services.try_rules(stream=upload, name=upload.name or "")
        except ValidationError as exc:
            file_errors(form, exc, field="file")
            return self.render_page(form, status=422)
        return self.render_page(form, outcome)


@register_model_view("detail")
class LedgerImportDetailView(ObjectDetailView):
    """One period's ledger: its totals, what each rule took, and its unmapped bucket."""

    template_name = "ledger/ledgerimport_detail.html"
    queryset = LedgerImport.objects.select_related("period", "imported_by")

    def get_extra_context(self, ledger_import) -> dict:
        (with_totals,) = selectors.imports_with_totals(
            LedgerImport.objects.filter(pk=ledger_import.pk)
        )
        return {
            "section": SECTION,
            "totals": with_totals.currency_totals,
            "takes": selectors.takes_by_rule(ledger_import=ledger_import),
            "top_unmapped": [
                {**row, "amount": Decimal(row["amount"])} for row in ledger_import.top_unmapped
            ],
            "lines_url": reverse("ledger:ledgerline_list") + f"?ledger_import={ledger_import.pk}",
            "unmapped_url": reverse("ledger:ledgerline_list")
            + f"?ledger_import={ledger_import.pk}&unmapped=yes",
            "pool": services.unmapped_pool_if_any(),
        }


@register_model_view("list")
class LedgerLineListView(ObjectListView):
    filterset_class = LedgerLineFilterSet
    table_class = LedgerLineTable
    title = "Ledger lines"
    show_add = False
    template_name = "ledger/ledger_list.html"
    per_page = 100

    def get_queryset(self):
        return super().get_queryset().select_related("ledger_import__period", "rule")

    def get_extra_context(self):
        return {"section": SECTION}


@register_model_view("list")
class LedgerRuleListView(ObjectListView):
    filterset_class = LedgerRuleFilterSet
    table_class = LedgerRuleTable
    template_name = "ledger/ledger_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("service", "application", "contract", "pool")

    def get_extra_context(self):
        return {"section": SECTION}


@register_model_view("add", "edit")
class LedgerRuleEditView(ObjectEditView):
    """The rule's form; sent with "Test" and a file, it shows what each rule would take of
    the file with this one in its place, and saves nothing."""

    model = LedgerRule
    form_class = LedgerRuleForm
    save_function = services.save_rule
    template_name = "ledger/ledgerrule_edit.html"

    def get_form(self, obj, data=None):
        files_ = self.request.FILES if data is not None else None
        return self.form_class(data, files_, instance=obj, user=self.request.user)

    def get_success_url(self, obj) -> str:
        return reverse("ledger:ledgerrule_list")

    outcome: services.RuleTest | None = None

    def get_form_context(self, obj, form) -> dict:
        return {"outcome": self.outcome}

    def post(self, request, *args, **kwargs):
        if "test" not in request.POST:
            return super().post(request, *args, **kwargs)
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        if form.is_valid():
            upload = form.cleaned_data.get("test_file")
            if upload is None:
                form.add_error("test_file", "Choose the file to test the rule against.")
            else:
                try:
                    self.outcome = services.try_rules(
                        stream=upload, name=upload.name or "", candidate=form.save(commit=False)
                    )
                except ValidationError as exc:
                    file_errors(form, exc)
        return self.render_form(obj, form, status=200 if self.outcome is not None else 422)


@register_model_view("delete")
class LedgerRuleDeleteView(ObjectDeleteView):
    model = LedgerRule
    remove_function = services.remove_rule
