"""The general ledger in the browser: the imported periods with their unmapped bucket and an
upload, a period's lines by rule, the mapping rules (tested against a file before they are
saved) and a page that tests the stored rules against a file."""

from decimal import Decimal

from django.urls import reverse

from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectListView
from core.generic import PageView
from core.generic import register_model_view
from core.permissions import can
from core.permissions import restricted
from core.uploads import FileFormView
from core.uploads import FileImportView
from core.uploads import RuleEditView
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


class LedgerUploadView(FileImportView):
    """POST a ledger file: every period in it is imported, all or nothing."""

    model = LedgerImport
    form_class = LedgerUploadForm
    template_name = "ledger/upload.html"
    section = SECTION
    import_function = services.import_ledger
    overview_url_name = "ledger:overview"

    def get_context(self) -> dict:
        return {"columns": column_help()}

    def result_message(self, result) -> str:
        return (
            f"Ledger {result.period_label}: {result.outcome}, {result.lines} lines "
            f"({result.unmapped_lines} unmapped)."
        )


class LedgerTestView(FileFormView):
    """POST a ledger file: what each stored rule, by priority, would take of it, and what
    would stay unmapped. Saves nothing."""

    model = LedgerRule
    action = "view"
    form_class = LedgerTestForm
    template_name = "ledger/test.html"
    section = SECTION

    def get_context(self) -> dict:
        return {"outcome": None}

    def done(self, form, upload):
        outcome = services.try_rules(stream=upload, name=upload.name or "")
        return self.render_form(form, outcome=outcome)


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
class LedgerRuleEditView(RuleEditView):
    model = LedgerRule
    form_class = LedgerRuleForm
    save_function = services.save_rule
    try_rules = services.try_rules
    template_name = "ledger/ledgerrule_edit.html"
    list_url_name = "ledger:ledgerrule_list"


@register_model_view("delete")
class LedgerRuleDeleteView(ObjectDeleteView):
    model = LedgerRule
    remove_function = services.remove_rule
