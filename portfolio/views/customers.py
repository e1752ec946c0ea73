"""The customer portfolio: customers, their subscriptions and Successful Customer Outcomes.

Subscriptions and outcomes are edited in place on the customer page (htmx partials of
templates/portfolio/customer_detail.html); every action also works as a plain page.
"""

from django.db.models import BooleanField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from core import panels
from core.generic import ChildDeleteView
from core.generic import ChildEditView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import SectionMixin
from core.generic import allowed_pks
from core.generic import register_model_view
from core.permissions import can
from performance.selectors import with_outcome_status
from portfolio import selectors
from portfolio import services
from portfolio.filtersets import CustomerFilterSet
from portfolio.forms import CustomerForm
from portfolio.forms import OutcomeForm
from portfolio.forms import SubscriptionForm
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Subscription
from portfolio.tables import CustomerTable

# --- Customers ---------------------------------------------------------------------------------


@register_model_view("list")
class CustomerListView(ObjectListView):
    filterset_class = CustomerFilterSet
    table_class = CustomerTable

    def get_queryset(self):
        return selectors.customers_with_revenue(
            super().get_queryset().select_related("relationship_manager")
        )


@register_model_view("detail")
class CustomerDetailView(ObjectDetailView):
    queryset = Customer.objects.select_related("relationship_manager")

    def get_extra_context(self, customer):
        return {
            **subscriptions_context(self.request, customer),
            "panels": panels.render_context("customer", self.request, customer),
        }


@register_model_view("add", "edit")
class CustomerEditView(ObjectEditView):
    model = Customer
    form_class = CustomerForm
    save_function = services.save_customer


@register_model_view("delete")
class CustomerDeleteView(ObjectDeleteView):
    model = Customer
    remove_function = services.remove_customer


# --- Subscriptions and outcomes, in place on the customer page ------------------------------


def subscriptions_context(
    request, customer, *, subscription_form=None, form_for=None, outcome_form=None
) -> dict:
    """The customer's subscriptions with their outcomes and what the user may do with each.

    ``subscription_form`` is the add-subscription form, or the edit form of subscription
    ``form_for``; ``outcome_form`` is an outcome form open on subscription ``form_for``.
    """
    user = request.user
    outcomes = with_outcome_status(
        Outcome.objects.select_related("specification_item"), timezone.localdate()
    ).order_by("id")
    today = timezone.localdate()
    subscriptions = list(
        customer.subscriptions.select_related("service", "service__owner")
        .prefetch_related(Prefetch("outcomes", queryset=outcomes))
        .annotate(
            is_current=ExpressionWrapper(
                selectors.subscriptions_in_force(today), output_field=BooleanField()
            )
        )
        .order_by(F("retired_at").asc(nulls_first=True), "service__name", "start_date", "id")
    )
    mine = Subscription.objects.filter(customer=customer)
    changeable = allowed_pks(mine, user, "change")
    deletable = allowed_pks(mine, user, "delete")
    mine_outcomes = Outcome.objects.filter(subscription__customer=customer)
    outcome_changeable = allowed_pks(mine_outcomes, user, "change")
    outcome_deletable = allowed_pks(mine_outcomes, user, "delete")
    for subscription in subscriptions:
        subscription.can_change = subscription.pk in changeable
        subscription.can_delete = subscription.pk in deletable
        subscription.form = None
        subscription.outcome_form = None
        if form_for is not None and subscription.pk == form_for.pk:
            subscription.form = subscription_form
            subscription.outcome_form = outcome_form
        subscription.outcome_list = list(subscription.outcomes.all())
        for outcome in subscription.outcome_list:
            outcome.can_change = outcome.pk in outcome_changeable
            outcome.can_delete = outcome.pk in outcome_deletable
    return {
        "object": customer,
        "today": today,
        "subscriptions": subscriptions,
        "revenue_totals": selectors.totals_by_currency(
            (s.currency, s.annual_revenue) for s in subscriptions if s.is_current
        ),
        "can_add_subscription": can(user, "change", customer) and not customer.is_retired,
        "subscription_form": subscription_form if form_for is None else None,
        "unmeasured_count": sum(
            not outcome.is_measurable for s in subscriptions for outcome in s.outcome_list
        ),
    }


class SubscriptionSection(SectionMixin):
    """The customer page's subscriptions (one of them, with its outcomes, for ``section =
    "subscription"``)."""

    section = "subscriptions"
    model = Subscription
    parent_field = "customer"

    parent_queryset = Customer.objects.select_related("relationship_manager")

    def section_context(self, customer, *, form=None, row=None) -> dict:
        editing = row if row is not None and row.pk else None
        return subscriptions_context(
            self.request, customer, subscription_form=form, form_for=editing
        )


@register_model_view("add", "edit")
class SubscriptionEditView(SubscriptionSection, ChildEditView):
    """Add a subscription to the customer, or edit one of its subscriptions."""

    form_class = SubscriptionForm
    save_function = services.save_subscription

    def saved_anchor(self, subscription) -> str:
        return f"subscription-{subscription.pk}"


@register_model_view("remove")
class SubscriptionRemoveView(SubscriptionSection, ChildDeleteView):
    """Delete a subscription; one with outcomes or other references is ended (retired)."""

    remove_function = services.remove_subscription


class OutcomeSection(SubscriptionSection):
    """One subscription of the customer page, with its outcomes."""

    section = "subscription"
    model = Outcome
    parent_field = "subscription__customer"

    def section_context(self, customer, *, form=None, row=None) -> dict:
        subscription = row.subscription
        context = subscriptions_context(
            self.request, customer, form_for=subscription, outcome_form=form
        )
        context["subscription"] = next(
            s for s in context["subscriptions"] if s.pk == subscription.pk
        )
        return context

    def section_response(self, parent, *, form=None, row=None, status=200, anchor=""):
        anchor = f"subscription-{row.subscription_id}"
        return super().section_response(parent, form=form, row=row, status=status, anchor=anchor)


@register_model_view("add", "edit")
class OutcomeEditView(OutcomeSection, ChildEditView):
    """Add a Successful Customer Outcome to a subscription, or edit one."""

    form_class = OutcomeForm
    save_function = services.save_outcome

    def new_row(self, customer):
        subscription = (
            Subscription.objects.select_related("service")
            .filter(customer=customer, pk=self.kwargs["subscription_pk"])
            .first()
        )
        if subscription is None:
            raise Http404("No such subscription")
        return Outcome(subscription=subscription)


@register_model_view("remove")
class OutcomeRemoveView(OutcomeSection, ChildDeleteView):
    remove_function = services.remove_outcome
