"""The supplier and contracts portfolio: suppliers, their contracts, and what each contract
covers (services or applications), edited in place on the contract page."""

from datetime import timedelta

from django.db.models import Count
from django.db.models import F
from django.utils import timezone

from core.generic import ChangeFromMonthView
from core.generic import ChildDeleteView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import SectionMixin
from core.generic import register_model_view
from core.models import mark_shares_in_force
from core.permissions import can
from finance.previews import PreviewChildEditView
from finance.previews import PreviewObjectEditView
from portfolio import selectors
from portfolio import services
from portfolio.filtersets import ContractFilterSet
from portfolio.filtersets import SupplierFilterSet
from portfolio.forms import ContractForm
from portfolio.forms import CoverageForm
from portfolio.forms import SupplierForm
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Supplier
from portfolio.tables import ContractTable
from portfolio.tables import SupplierTable

# --- Suppliers ---------------------------------------------------------------------------------


@register_model_view("list")
class SupplierListView(ObjectListView):
    filterset_class = SupplierFilterSet
    table_class = SupplierTable
    title = "Suppliers and contracts"

    def get_queryset(self):
        return selectors.suppliers_with_value(super().get_queryset().select_related("owner"))


@register_model_view("detail")
class SupplierDetailView(ObjectDetailView):
    queryset = Supplier.objects.select_related("owner")

    def get_extra_context(self, supplier):
        contracts = list(
            selectors.with_notice_deadline(
                supplier.contracts.select_related("owner").annotate(
                    coverage_count=Count("coverages")
                )
            ).order_by(F("retired_at").asc(nulls_first=True), "reference")
        )
        live = [c for c in contracts if not c.is_retired]
        return {
            "contracts": contracts,
            "value_totals": selectors.totals_by_currency(
                (c.currency, c.annual_value) for c in live
            ),
            "applications": list(supplier.applications.select_related("owner")),
            "can_add_contract": can(self.request.user, "add", Contract),
            **notice_flags(),
        }


def notice_flags() -> dict:
    today = timezone.localdate()
    return {
        "today": today,
        "notice_horizon": today + timedelta(days=selectors.NOTICE_HORIZON_DAYS),
        "notice_horizon_days": selectors.NOTICE_HORIZON_DAYS,
    }


@register_model_view("add", "edit")
class SupplierEditView(ObjectEditView):
    model = Supplier
    form_class = SupplierForm
    save_function = services.save_supplier


@register_model_view("delete")
class SupplierDeleteView(ObjectDeleteView):
    model = Supplier
    remove_function = services.remove_supplier


# --- Contracts ---------------------------------------------------------------------------------


@register_model_view("list")
class ContractListView(ObjectListView):
    filterset_class = ContractFilterSet
    table_class = ContractTable

    def get_queryset(self):
        return selectors.with_notice_deadline(
            super().get_queryset().select_related("supplier", "owner")
        )

    def get_extra_context(self):
        return {"notice_horizon_days": selectors.NOTICE_HORIZON_DAYS}


@register_model_view("detail")
class ContractDetailView(ObjectDetailView):
    queryset = Contract.objects.select_related("supplier", "supplier__owner", "owner")

    def get_extra_context(self, contract):
        return {**coverages_context(self.request, contract), **notice_flags()}


@register_model_view("add", "edit")
class ContractEditView(PreviewObjectEditView):
    model = Contract
    form_class = ContractForm
    save_function = services.save_contract

    def get_form(self, obj, data=None):
        initial = {}
        if obj.pk is None and data is None and self.request.GET.get("supplier"):
            initial["supplier"] = self.request.GET["supplier"]
        return self.form_class(data, instance=obj, user=self.request.user, initial=initial)


@register_model_view("delete")
class ContractDeleteView(ObjectDeleteView):
    model = Contract
    remove_function = services.remove_contract


# --- Coverages: what a contract underpins, in place on the contract page ---------------------


def coverages_context(request, contract, *, form=None) -> dict:
    """The contract's coverages, with the open form (add, or edit of ``form.instance``)."""
    coverages = list(
        contract.coverages.select_related("service", "application").order_by(
            "service__name", "application__name", "id"
        )
    )
    # Coverages are owned through their contract: the same people add and edit them.
    can_change = can(request.user, "add", ContractCoverage(contract=contract))
    mark_shares_in_force(coverages)
    for coverage in coverages:
        coverage.can_change = can_change
        coverage.form = form if form is not None and form.instance.pk == coverage.pk else None
    return {
        "object": contract,
        "coverages": coverages,
        "can_change_coverages": can_change,
        "coverage_form": form if form is not None and form.instance.pk is None else None,
    }


class CoverageSection(SectionMixin):
    parent_lookup, parent_kwarg = "pk", "contract_pk"
    section = "coverages"
    model = ContractCoverage
    parent_field = "contract"

    parent_queryset = Contract.objects.select_related("supplier")

    def section_context(self, contract, *, form=None, row=None) -> dict:
        return coverages_context(self.request, contract, form=form)


@register_model_view("add", "edit")
class CoverageEditView(PreviewChildEditView, CoverageSection):
    """Add a service or application the contract covers, or change a coverage's weight."""

    form_class = CoverageForm
    save_function = services.save_coverage


@register_model_view("remove")
class CoverageRemoveView(CoverageSection, ChildDeleteView):
    remove_function = services.remove_coverage


@register_model_view("change_from_month")
class CoverageChangeFromMonthView(ChangeFromMonthView):
    """End a coverage with a month and carry on with a new weight from the next one."""

    queryset = ContractCoverage.objects.select_related("contract", "service", "application")
    change_function = services.change_coverage_from_month
    anchor = "coverages"
    parent_in_address = {"contract_pk": "contract_id"}

    def parent_of(self, coverage):
        return coverage.contract
