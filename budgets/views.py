"""Budgets in the browser: the versions of each fiscal year; a version's page with its lines
(filtered), its budgeted TCO against actual per service, and its actions (build, approve,
start a new draft); adding a planned line and editing any line; scenarios on a version, their
changes and the difference they make (budgets.scenarios), and a scenario turned into a
draft."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_tables2 import RequestConfig

from budgets import scenarios
from budgets import selectors
from budgets import services
from budgets.choices import GRAPH_CHANGES
from budgets.filtersets import BudgetLineFilterSet
from budgets.filtersets import BudgetVersionFilterSet
from budgets.forms import BudgetLineForm
from budgets.forms import BudgetVersionForm
from budgets.forms import ScenarioChangeForm
from budgets.forms import ScenarioForm
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from budgets.tables import BudgetLineTable
from budgets.tables import BudgetVersionTable
from core.generic import ChildDeleteView
from core.generic import ChildEditView
from core.generic import ObjectActionView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import SectionMixin
from core.generic import paginate
from core.generic import redirect_after_write
from core.generic import register_model_view
from core.permissions import can
from core.permissions import require
from core.tables import ListData
from finance.choices import CostCategory


@register_model_view("list")
class BudgetVersionListView(ObjectListView):
    filterset_class = BudgetVersionFilterSet
    table_class = BudgetVersionTable
    title = "Budgets"

    def get_queryset(self):
        return super().get_queryset().select_related("based_on")

    def get_extra_context(self):
        return {"section": "budgets"}


@register_model_view("detail")
class BudgetVersionDetailView(ObjectDetailView):
    """The version, its figures against actual per service for the year, and its lines."""

    model = BudgetVersion

    def get_extra_context(self, version) -> dict:
        request = self.request
        lines = BudgetLine.objects.filter(version=version).select_related(
            "service", "application", "contract__supplier", "pool"
        )
        filterset = BudgetLineFilterSet(request.GET or None, lines, request=request)
        valid = filterset.is_valid() or not filterset.is_bound
        table = RequestConfig(request, paginate=False).configure(
            BudgetLineTable(ListData(filterset.qs if valid else lines.none()))
        )
        paginate(table, request, default_per_page=100)
        del filterset.form.fields["version"]
        rows = selectors.budget_vs_actual(version.fiscal_year, version=version)
        writable = can(request.user, "change", version) and not version.is_approved
        return {
            "section": "budgets",
            "filterset": filterset,
            "table": table,
            "years": [year for year in selectors.year_figures(rows) if year.category == "total"],
            "can_write": writable,
            "can_approve": writable,
            "can_draft": can(request.user, "add", BudgetVersion),
            "scenarios": list(version.scenarios.order_by("name")),
            "can_add_scenario": can(request.user, "add", Scenario(base=version)),
        }


@register_model_view("add", "edit")
class BudgetVersionEditView(ObjectEditView):
    model = BudgetVersion
    form_class = BudgetVersionForm
    save_function = services.save_version

    def save(self, form):
        version = form.save(commit=False)
        if version.pk is None:
            version.created_by = self.request.user
        return services.save_version(version=version, user=self.request.user)


class BudgetActionView(ObjectActionView):
    model = BudgetVersion
    atomic = False  # the services commit their own steps

    def failed(self, obj, exc: ValidationError) -> HttpResponse:
        messages.error(self.request, " ".join(exc.messages))
        return redirect_after_write(self.request, obj.get_absolute_url())


class BuildView(BudgetActionView):
    """Build the draft from contracts and the run rate; its roll-up follows."""

    def perform(self, version):
        counts = services.build_budget(version, user=self.request.user)
        built = ", ".join(f"{count} {origin.replace('_', '-')}" for origin, count in counts.items())
        messages.success(self.request, f"Built: {built} lines. Its figures are being rolled up.")


class RollUpView(BudgetActionView):
    """Roll the draft up now (the build asks for it in the background)."""

    def perform(self, version):
        services.roll_up(version)
        messages.success(self.request, "Rolled up.")


class ApproveView(BudgetActionView):
    def perform(self, version):
        with transaction.atomic():
            services.approve(version, user=self.request.user)
        messages.success(self.request, "Approved: its lines and figures are locked.")


class NewDraftView(BudgetActionView):
    """A new draft of the same year starting from this version (its name is asked for)."""

    action = "view"

    def perform(self, version):
        require(self.request.user, "add", BudgetVersion)
        # Read as a form reads a name: stripped, at most 200 characters, no NUL.
        field = forms.CharField(max_length=200, error_messages={"required": "Name the new draft."})
        try:
            name = field.clean(self.request.POST.get("name"))
        except ValidationError as error:
            raise ValidationError({"name": error.messages}) from None
        self.draft = services.new_draft(version, user=self.request.user, name=name)
        services.queue_roll_up(self.draft.pk)
        messages.success(self.request, f"Started the draft “{self.draft.name}”.")

    def done(self, obj, result) -> HttpResponse:
        return redirect_after_write(self.request, self.draft.get_absolute_url())


@register_model_view("add", "edit")
class BudgetLineEditView(ObjectEditView):
    """A planned line of a version (added from the version's page), or an edit of a line."""

    model = BudgetLine
    form_class = BudgetLineForm

    def get_object(self):
        if self.is_create():
            version = get_object_or_404(BudgetVersion, pk=self.kwargs["version"])
            require(self.request.user, "change", version)
            require(self.request.user, "add", BudgetLine)
            return BudgetLine(version=version)
        return super().get_object()

    def save(self, form):
        line = form.save(commit=False)
        return services.save_line(line=line, user=self.request.user)

    def get_success_url(self, obj) -> str:
        return obj.version.get_absolute_url() + "#lines"

    def get_form_context(self, obj, form) -> dict:
        return {"cancel_url": obj.version.get_absolute_url() if obj.version_id else ""}


@register_model_view("delete")
class BudgetLineDeleteView(ObjectDeleteView):
    model = BudgetLine
    remove_function = services.delete_line

    def get_success_url(self, obj, outcome: str) -> str:
        return reverse("budgets:budgetversion_detail", args=[obj.version_id]) + "#lines"

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError as exc:
            line = self.get_object()
            messages.error(request, " ".join(exc.messages))
            return redirect_after_write(request, line.version.get_absolute_url())


# --- Scenarios ---------------------------------------------------------------------------------


def scenario_context(request, scenario: Scenario, *, form=None) -> dict:
    """The scenario page's changes and their effect (the ``changes`` section): its changes,
    the form adding one (open for whoever may add it), the changes a draft leaves to the
    portfolio, and the difference per service and bucket, computed in memory."""
    changes = list(
        scenario.changes.select_related(
            "contract", "dependency__consumer", "dependency__provider", "service", "provider"
        )
    )
    may_add = can(request.user, "add", ScenarioChange(scenario=scenario))
    if form is None and may_add:
        form = ScenarioChangeForm(instance=ScenarioChange(scenario=scenario), user=request.user)
    return {
        "object": scenario,
        "effect": scenarios.scenario_effect(scenario),
        "changes": changes,
        "graph_changes": [change for change in changes if change.kind in GRAPH_CHANGES],
        "category_labels": [str(label) for _, label in CostCategory.choices],
        "change_form": form,
        "can_remove_change": can(request.user, "delete", ScenarioChange),
    }


@register_model_view("detail")
class ScenarioDetailView(ObjectDetailView):
    """A scenario: its changes, and the difference they make to its base version's budgeted
    TCO per service and bucket over the fiscal year (budgets.scenarios, in memory)."""

    queryset = Scenario.objects.select_related("base", "created_by")

    def get_extra_context(self, scenario) -> dict:
        return {**scenario_context(self.request, scenario), "section": "budgets"}


@register_model_view("add", "edit")
class ScenarioEditView(ObjectEditView):
    """A new scenario on a budget version (from the version's page or the budget view), or
    its name and note. An approved version takes scenarios too: they never write it."""

    model = Scenario
    form_class = ScenarioForm
    save_function = scenarios.save_scenario

    def get_object(self):
        if self.is_create():
            version = get_object_or_404(BudgetVersion, pk=self.kwargs["version"])
            scenario = Scenario(base=version)
            require(self.request.user, "add", scenario)
            return scenario
        return super().get_object()

    def get_form_context(self, obj, form) -> dict:
        return {"cancel_url": obj.get_absolute_url() if obj.pk else obj.base.get_absolute_url()}


@register_model_view("delete")
class ScenarioDeleteView(ObjectDeleteView):
    """Delete a scenario and its changes; its base version stays as it is."""

    queryset = Scenario.objects.select_related("base")
    remove_function = scenarios.remove_scenario

    def get_success_url(self, obj, outcome: str) -> str:
        return obj.base.get_absolute_url()


class ScenarioDraftView(ObjectActionView):
    """Turn a scenario into a new draft version of its base's fiscal year."""

    queryset = Scenario.objects.select_related("base")

    def perform(self, scenario):
        require(self.request.user, "add", BudgetVersion)
        return scenarios.scenario_to_draft(
            scenario, user=self.request.user, name=f"{scenario.name} (scenario)"[:200]
        )

    def done(self, scenario, draft) -> HttpResponse:
        messages.success(self.request, f"Created the draft “{draft}” from “{scenario.name}”.")
        url = (
            reverse("finance:overview")
            + f"?view=budget&fiscal_year={draft.fiscal_year}&budget_version={draft.pk}"
        )
        return redirect_after_write(self.request, url)


class ScenarioChangeSection(SectionMixin):
    """The scenario page's changes and their effect, answered again after each change."""

    section = "changes"
    model = ScenarioChange
    parent_field = "scenario"
    parent_lookup = "pk"
    parent_kwarg = "scenario"
    parent_queryset = Scenario.objects.select_related("base", "created_by")

    def section_context(self, scenario, *, form=None, row=None) -> dict:
        return scenario_context(self.request, scenario, form=form)


@register_model_view("add")
class ScenarioChangeAddView(ScenarioChangeSection, ChildEditView):
    """Add a change to the scenario (its form is open on the scenario page)."""

    form_class = ScenarioChangeForm
    save_function = scenarios.save_scenario_change


@register_model_view("remove")
class ScenarioChangeRemoveView(ScenarioChangeSection, ChildDeleteView):
    remove_function = scenarios.remove_scenario_change
