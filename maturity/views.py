"""The Maturity pages: thin views over maturity.selectors (reads) and maturity.services (writes)."""

from dataclasses import dataclass

from django.shortcuts import get_object_or_404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.generic import ObjectDeleteView
from core.generic import ObjectEditView
from core.generic import PageView
from core.generic import partial_or_page
from core.generic import register_model_view
from core.permissions import can
from core.permissions import require
from core.rules import Change
from maturity import charts
from maturity import scoring
from maturity import selectors
from maturity import services
from maturity.choices import Answer
from maturity.choices import BalanceElement
from maturity.choices import PartyKind
from maturity.forms import AssessmentForm
from maturity.forms import ProviderUnitForm
from maturity.forms import SelfAssessmentForm
from maturity.forms import ServingUnitForm
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import BalanceSnapshot
from maturity.models import Party
from maturity.questionnaire import LEVELS
from maturity.questionnaire import statements_by_level
from portfolio.models import Customer

# --- Who is assessed ---------------------------------------------------------------------------


@dataclass
class Subject:
    """The party a page is about; ``party`` is None until its first assessment is recorded."""

    kind: str
    party: Party | None
    customer: Customer | None
    label: str
    url: str
    assess_url: str

    def ensure_party(self) -> Party:
        """The party to record against, created with its first assessment (inside a write)."""
        if self.party is not None:
            return self.party
        if self.customer is not None:
            return services.party_for_customer(customer=self.customer)
        return services.organisation_party()


# The provider's units: the parties assessing an organisation unit.
PROVIDER_UNITS = Party.objects.filter(kind=PartyKind.PROVIDER, unit__isnull=False).select_related(
    "unit"
)


def subject_for(*, unit_pk: int | None = None, customer_slug: str | None = None) -> Subject:
    if customer_slug is not None:
        customer = get_object_or_404(Customer, slug=customer_slug)
        party = Party.objects.filter(customer=customer).select_related("served_by").first()
        return Subject(
            PartyKind.CUSTOMER,
            party,
            customer,
            str(customer),
            reverse("maturity:customer", args=[customer.slug]),
            reverse("maturity:assess_customer", args=[customer.slug]),
        )
    if unit_pk is not None:
        unit = get_object_or_404(PROVIDER_UNITS, pk=unit_pk)
        return Subject(
            PartyKind.PROVIDER,
            unit,
            None,
            str(unit),
            unit.get_absolute_url(),
            reverse("maturity:assess_unit", args=[unit.pk]),
        )
    org = selectors.organisation()
    return Subject(
        PartyKind.PROVIDER,
        org,
        None,
        str(org) if org else "The provider (whole organisation)",
        reverse("maturity:provider"),
        reverse("maturity:assess_provider"),
    )


def assessable(subject: Subject) -> Party | Assessment:
    """What recording an assessment of ``subject`` adds: an assessment of its party, or, before
    the first, the party itself (a customer's relationship manager adds their customer's)."""
    if subject.party is None:
        return Party(kind=subject.kind, customer=subject.customer)
    return Assessment(party=subject.party)


def may_assess_subject(user, subject: Subject) -> bool:
    return can(user, "add", assessable(subject))


# --- The Maturity page -------------------------------------------------------------------------


def balance_context(balance, *, history=(), belief=None) -> dict:
    today = timezone.localdate()
    return {
        "balance": balance,
        "triangle": charts.triangle(
            scores=balance.scores,
            # Today's snapshot is the evidence drawn in full; the outlines are the days before.
            history=[snapshot.scores for snapshot in history if snapshot.taken_on < today],
            belief=belief.scores if belief else None,
            weak_below=scoring.WEAK_BELOW,
            strong_from=scoring.STRONG_FROM,
        ),
        "snapshots": list(history),
        "self_assessment": belief,
        "beliefs": belief.scores if belief else {},
        "strong_from": scoring.STRONG_FROM,
        "weak_below": scoring.WEAK_BELOW,
        "belief_gap_flag": scoring.BELIEF_GAP_FLAG,
        "belief_gap_flag_negative": -scoring.BELIEF_GAP_FLAG,
    }


class OverviewView(PageView):
    model = Assessment
    template_name = "maturity/overview.html"

    def get_context(self) -> dict:
        request = self.request
        latest = selectors.latest_assessments()
        relationships = selectors.customer_relationships(latest=latest)
        org = selectors.organisation()
        history = selectors.party_history(org) if org else []
        units = [
            (unit, latest.get(unit.pk)) for unit in selectors.provider_parties() if unit.unit_id
        ]
        # Portfolio managers assess every customer; relationship managers those they manage.
        refused = permissions.refusals(
            request.user,
            "add",
            Party,
            [Change(row={"customer_id": r.customer.pk}) for r in relationships],
        )
        for relationship, refusal in zip(relationships, refused, strict=True):
            relationship.can_assess = refusal is None
        context = {
            "organisation": org,
            "history": history,
            "trend": selectors.trend_of(history),
            "level_chart": charts.level_chart([(a.assessed_on, a.level) for a in history]),
            "levels": LEVELS,
            "units": units,
            "relationships": relationships,
            "by_level": selectors.customers_by_level(relationships),
            "mismatches": selectors.mismatches(relationships=relationships),
            "can_assess_provider": can(
                request.user,
                "add",
                Assessment(party=org) if org else Party(kind=PartyKind.PROVIDER),
            ),
            "can_add_unit": can(request.user, "add", Party(kind=PartyKind.PROVIDER)),
            **balance_context(
                selectors.balance(),
                history=selectors.snapshot_history(),
                belief=selectors.latest_self_assessment(),
            ),
        }
        return context


class BalanceView(PageView):
    model = Assessment
    template_name = "maturity/balance.html"

    def get_context(self) -> dict:
        context = balance_context(
            selectors.balance(),
            history=selectors.snapshot_history(limit=25),
            belief=selectors.latest_self_assessment(),
        )
        context["self_assessments"] = list(
            BalanceSelfAssessment.objects.select_related("assessor")[:12]
        )
        context["can_self_assess"] = can(self.request.user, "add", BalanceSelfAssessment)
        return context


# --- A party's page: level, trend, answers, history --------------------------------------------


def answered_levels(assessment: Assessment | None, kind: str) -> list:
    if assessment is None:
        return []
    labels = dict(Answer.choices)
    return [
        (
            LEVELS[level],
            [(s, labels.get(assessment.answers.get(s.code))) for s in statements],
        )
        for level, statements in statements_by_level(kind).items()
    ]


def party_context(request, subject: Subject, *, serving_form=None) -> dict:
    party = subject.party
    history = selectors.party_history(party) if party else []
    latest = history[-1] if history else None
    relationship = (
        selectors.relationship_for_customer(subject.customer) if subject.customer else None
    )
    may_assess = may_assess_subject(request.user, subject)
    return {
        "subject": subject,
        "party": party,
        "history": history,
        "recent_first": list(reversed(history)),
        "latest": latest,
        "trend": selectors.trend_of(history),
        "level_chart": charts.level_chart([(a.assessed_on, a.level) for a in history]),
        "profile": LEVELS[latest.level] if latest else None,
        "answered_levels": answered_levels(latest, subject.kind),
        "relationship": relationship,
        "served": (
            selectors.customers_served_by(party) if party is not None and party.is_provider else []
        ),
        "can_assess": may_assess and not (party and party.is_retired),
        # All assessments of a party share their owners: one check covers them all.
        "can_change": bool(latest) and can(request.user, "change", latest),
        "can_delete": bool(latest) and can(request.user, "delete", latest),
        "can_edit_unit": bool(party and party.unit_id) and can(request.user, "change", party),
        "serving_form": serving_form
        or (
            ServingUnitForm(initial={"served_by": party.served_by_id if party else None})
            if subject.customer is not None and may_assess
            else None
        ),
    }


class SubjectMixin:
    """The party a page is about, from its address: a customer (slug), a unit (pk) or the
    provider as a whole."""

    def get_subject(self) -> Subject:
        return subject_for(unit_pk=self.kwargs.get("pk"), customer_slug=self.kwargs.get("slug"))


class PartyView(SubjectMixin, PageView):
    model = Assessment
    template_name = "maturity/party.html"

    def get_context(self) -> dict:
        return party_context(self.request, self.get_subject())


# --- Recording and editing assessments ---------------------------------------------------------


class AssessmentFormMixin:
    model = Assessment
    template_name = "maturity/assessment_form.html"

    def render_form(self, obj, form, status=200):
        context = {
            "subject": self.subject,
            "form": form,
            "action": self.request.path,
            "assessment": obj if obj.pk else None,
            "levels": LEVELS,
        }
        template = partial_or_page(self.request, self.template_name, "form")
        return render(self.request, template, context, status=status)

    def get_success_url(self, assessment) -> str:
        return assessment.party.get_absolute_url()

    def answers(self, form) -> dict:
        data = form.cleaned_data
        return {
            "assessed_on": data["assessed_on"],
            "answers": form.answers,
            "override_level": data["override_level"],
            "override_reason": data["override_reason"],
            "note": data["note"],
        }


class AssessView(SubjectMixin, AssessmentFormMixin, ObjectEditView):
    """Rate the page's party from its questionnaire; its first assessment makes the party."""

    def get_object(self):
        self.subject = self.get_subject()
        require(self.request.user, "view", Assessment)
        # What is added: an assessment of the party, or the party itself before its first.
        added = assessable(self.subject)
        require(self.request.user, "add", added)
        return added

    def get_form(self, obj, data=None):
        return AssessmentForm(data, kind=self.subject.kind, instance=obj)

    def save(self, form):
        return services.record_assessment(
            party=self.subject.ensure_party(), assessor=self.request.user, **self.answers(form)
        )

    def success_message(self, assessment) -> str:
        return f"Recorded level {assessment.level} for {assessment.party}."


@register_model_view("edit")
class AssessmentEditView(AssessmentFormMixin, ObjectEditView):
    queryset = Assessment.objects.select_related("party", "party__customer", "party__unit")

    def get_object(self):
        assessment = super().get_object()
        self.subject = subject_of(assessment.party)
        return assessment

    def get_form(self, assessment, data=None):
        return AssessmentForm(
            data, kind=self.subject.kind, assessment=assessment, instance=assessment
        )

    def save(self, form):
        return services.update_assessment(assessment=form.instance, **self.answers(form))

    def success_message(self, assessment) -> str:
        return f"Saved the assessment of {assessment.party}."


@register_model_view("remove")
class AssessmentRemoveView(ObjectDeleteView):
    template_name = "maturity/assessment_remove.html"
    remove_function = services.remove_assessment

    queryset = Assessment.objects.select_related("party", "party__customer", "party__unit")

    def success_message(self, assessment, outcome: str, name: str) -> str:
        return f"Removed the assessment of {assessment.party} of {assessment.assessed_on}."

    def get_success_url(self, assessment, outcome: str) -> str:
        return assessment.party.get_absolute_url()


def subject_of(party: Party) -> Subject:
    if party.kind == PartyKind.CUSTOMER:
        return subject_for(customer_slug=party.customer.slug)
    if party.unit_id is not None:
        return subject_for(unit_pk=party.pk)
    return subject_for()


# --- Who serves a customer ---------------------------------------------------------------------


class ServingUnitView(SubjectMixin, ObjectEditView):
    """Name the provider unit that serves a customer (its party made with the first)."""

    http_method_names = ["post"]
    model = Party

    def get_object(self):
        self.subject = self.get_subject()
        party = self.subject.party
        if party is None:
            party = Party(kind=PartyKind.CUSTOMER, customer=self.subject.customer)
        require(self.request.user, "change" if party.pk else "add", party)
        return party

    def get_form(self, party, data=None):
        return ServingUnitForm(data, instance=party)

    def save(self, form):
        return services.set_serving_unit(
            customer=self.subject.customer, unit=form.cleaned_data["served_by"]
        )

    def success_message(self, party) -> str:
        return f"Saved who serves {self.subject.customer}."

    def get_success_url(self, party) -> str:
        return self.subject.url

    def render_form(self, party, form, status=200):
        if not self.request.htmx:
            context = {"form": form, "model_meta": Party._meta, "cancel_url": self.subject.url}
            return render(self.request, "generic/object_edit.html", context, status=status)
        context = party_context(self.request, self.subject, serving_form=form)
        return render(self.request, "maturity/party.html#relationship", context, status=status)


# --- Provider units and the self-assessment: the generic views --------------------------------


@register_model_view("add", "edit")
class ProviderUnitEditView(ObjectEditView):
    form_class = ProviderUnitForm
    save_function = services.save_provider_unit

    queryset = PROVIDER_UNITS

    def get_object(self):
        if self.is_create():  # a unit is added under no parent: the role's right alone
            unit = Party(kind=PartyKind.PROVIDER)
            require(self.request.user, "add", unit)
            return unit
        return super().get_object()


@register_model_view("delete")
class ProviderUnitDeleteView(ObjectDeleteView):
    list_url_name = "maturity:overview"
    remove_function = services.remove_provider_unit

    queryset = PROVIDER_UNITS


class SelfAssessmentView(ObjectEditView):
    model = BalanceSelfAssessment
    form_class = SelfAssessmentForm

    def save(self, form):
        data = form.cleaned_data
        return services.record_self_assessment(
            assessed_on=data["assessed_on"],
            customer_focus=data["customer_focus"],
            process_orientation=data["process_orientation"],
            cost_optimisation=data["cost_optimisation"],
            note=data["note"],
            assessor=self.request.user,
        )


# --- The dashboard panel -----------------------------------------------------------------------


def dashboard_panel(request) -> dict:
    """Mismatched customer relationships, and the danger zone of the latest balance snapshot."""
    if not can(request.user, "view", Assessment):
        return {"visible": False}
    snapshot = BalanceSnapshot.objects.first()
    danger = None
    if snapshot is not None:
        danger = scoring.danger_zone(snapshot.scores)
    return {
        "visible": True,
        "mismatches": selectors.mismatches(),
        "snapshot": snapshot,
        "danger_label": BalanceElement(danger).label if danger else "",
        "consequence": scoring.DANGER_CONSEQUENCES[danger] if danger else "",
    }
