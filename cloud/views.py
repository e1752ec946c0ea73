"""Cloud bills in the browser: the imported billing periods with their untagged bucket and an
upload, a billing period's lines by rule, the tag rules (tested against a file before they
are saved) and the key synonyms."""

from decimal import Decimal

from django.urls import reverse

from cloud import selectors
from cloud import services
from cloud.filtersets import FocusLineFilterSet
from cloud.filtersets import TagKeySynonymFilterSet
from cloud.filtersets import TagRuleFilterSet
from cloud.forms import FocusUploadForm
from cloud.forms import TagKeySynonymForm
from cloud.forms import TagRuleForm
from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from cloud.tables import FocusLineTable
from cloud.tables import TagKeySynonymTable
from cloud.tables import TagRuleTable
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import PageView
from core.generic import register_model_view
from core.permissions import can
from core.permissions import restricted
from core.uploads import FileImportView
from core.uploads import RuleEditView


class CloudOverviewView(PageView):
    """The imported billing periods, largest untagged resources first named, and the upload."""

    model = BillingImport
    template_name = "cloud/overview.html"

    def get_context(self) -> dict:
        user = self.request.user
        imports = (
            restricted(BillingImport)
            .restrict(user, "view")
            .order_by("-period__serial", "account__name")
        )
        return {
            "section": "cloud",
            "imports": selectors.imports_with_totals(imports[:100]),
            "form": FocusUploadForm(),
            "can_import": can(user, "add", BillingImport),
        }


class FocusUploadView(FileImportView):
    """POST a FOCUS file: every billing account's billing period in it is imported."""

    model = BillingImport
    form_class = FocusUploadForm
    template_name = "cloud/upload.html"
    section = "cloud"
    import_function = services.import_focus
    overview_url_name = "cloud:overview"

    def result_message(self, result) -> str:
        return (
            f"{result.account} {result.period_label}: {result.outcome}, {result.lines} "
            f"lines ({result.untagged_lines} untagged)."
        )


@register_model_view("detail")
class BillingImportDetailView(ObjectDetailView):
    """One account's billing period: its totals, what each rule took, and its untagged bucket."""

    template_name = "cloud/billingimport_detail.html"
    queryset = BillingImport.objects.select_related("account", "period")

    def get_extra_context(self, billing_import) -> dict:
        (with_totals,) = selectors.imports_with_totals(
            BillingImport.objects.filter(pk=billing_import.pk)
        )
        return {
            "section": "cloud",
            "totals": with_totals.currency_totals,
            "takes": selectors.takes_by_rule(billing_import=billing_import),
            "top_untagged": [
                {**row, "effective_cost": Decimal(row["effective_cost"])}
                for row in billing_import.top_untagged
            ],
            "lines_url": reverse("cloud:focusline_list") + f"?billing_import={billing_import.pk}",
        }


@register_model_view("detail")
class CloudAccountDetailView(ObjectDetailView):
    template_name = "cloud/account_detail.html"
    queryset = CloudAccount.objects.select_related("untagged_pool")

    def get_extra_context(self, account) -> dict:
        return {
            "section": "cloud",
            "imports": selectors.imports_with_totals(
                account.imports.order_by("-period__serial")[:36]
            ),
            "rules": list(account.rules.all()),
        }


@register_model_view("list")
class FocusLineListView(ObjectListView):
    filterset_class = FocusLineFilterSet
    table_class = FocusLineTable
    title = "FOCUS lines"
    show_add = False
    template_name = "cloud/cloud_list.html"
    per_page = 100

    def get_queryset(self):
        return super().get_queryset().select_related("billing_import__account", "rule")

    def get_extra_context(self):
        return {"section": "cloud"}


@register_model_view("list")
class TagRuleListView(ObjectListView):
    filterset_class = TagRuleFilterSet
    table_class = TagRuleTable
    template_name = "cloud/cloud_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("account", "service", "application", "pool")

    def get_extra_context(self):
        return {"section": "cloud"}


@register_model_view("add", "edit")
class TagRuleEditView(RuleEditView):
    model = TagRule
    form_class = TagRuleForm
    save_function = services.save_rule
    try_rules = services.try_rules
    template_name = "cloud/tagrule_edit.html"
    list_url_name = "cloud:tagrule_list"


@register_model_view("delete")
class TagRuleDeleteView(ObjectDeleteView):
    model = TagRule
    remove_function = services.remove_rule


@register_model_view("list")
class TagKeySynonymListView(ObjectListView):
    filterset_class = TagKeySynonymFilterSet
    table_class = TagKeySynonymTable
    title = "Tag key synonyms"
    template_name = "cloud/cloud_list.html"

    def get_extra_context(self):
        return {"section": "cloud"}


@register_model_view("add", "edit")
class TagKeySynonymEditView(ObjectEditView):
    model = TagKeySynonym
    form_class = TagKeySynonymForm
    save_function = services.save_synonym

    def get_success_url(self, obj) -> str:
        return reverse("cloud:tagkeysynonym_list")


@register_model_view("delete")
class TagKeySynonymDeleteView(ObjectDeleteView):
    model = TagKeySynonym
    remove_function = services.remove_synonym
