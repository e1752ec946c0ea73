"""The customer portfolio: customers, their subscriptions and Successful Customer Outcomes.

Subscriptions and outcomes are edited in place on the customer page (htmx partials of
templates/portfolio/customer_detail.html); every action also works as a plain page.
"""

from functools import partial

from django.contrib.auth.decorators import login_required
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from core.permissions import can
from portfolio import selectors, services
from portfolio.filtersets import CustomerFilterSet
from portfolio.forms import CustomerForm, OutcomeForm, SubscriptionForm
from portfolio.models import Customer, Outcome, Subscription
from portfolio.tables import CustomerTable
from portfolio.views.rows import (
    allowed_pks,
    back_to,
    child_row_form,
    remove_child_row,
    row_to_edit,
)

# --- Customers ---------------------------------------------------------------------------------


class CustomerListView(ObjectListView):
    model = Customer
    filterset_class = CustomerFilterSet
    table_class = CustomerTable
    add_url_name = "portfolio:customer_add"
    export_name = "customers"

    def get_queryset(self):
        return selectors.customers_with_revenue(
            super().get_queryset().select_related("relationship_manager")
        )


class CustomerDetailView(ObjectDetailView):
    model = Customer
    lookup_field = lookup_url_kwarg = "slug"
    template_name = "portfolio/customer_detail.html"

    def get_queryset(self):
        return Customer.objects.select_related("relationship_manager")

    def get_extra_context(self, customer):
        return subscriptions_context(self.request, customer)


class CustomerEditView(ObjectEditView):
    model = Customer
    form_class = CustomerForm
    lookup_field = lookup_url_kwarg = "slug"

    def save(self, form):
        return services.save_customer(customer=form.save(commit=False))


class CustomerDeleteView(ObjectDeleteView):
    model = Customer
    lookup_field = lookup_url_kwarg = "slug"
    list_url_name = "portfolio:customer_list"

    def delete(self, obj):
        return services.remove_customer(customer=obj)


# --- Subscriptions and outcomes, in place on the customer page ------------------------------


def subscriptions_context(
    request, customer, *, subscription_form=None, form_for=None, outcome_form=None
) -> dict:
    """The customer's subscriptions with their outcomes and what the user may do with each.

    ``subscription_form`` is the add-subscription form, or the edit form of subscription
    ``form_for``; ``outcome_form`` is an outcome form open on subscription ``form_for``.
    """
    user = request.user
    outcomes = Outcome.objects.select_related("specification_item").order_by("id")
    subscriptions = list(
        customer.subscriptions.select_related("service", "service__owner")
        .prefetch_related(Prefetch("outcomes", queryset=outcomes))
        .order_by(F("retired_at").asc(nulls_first=True), "service__name", "start_date", "id")
    )
    mine = Subscription.objects.filter(customer=customer)
    changeable = allowed_pks(mine, user, "change")
    deletable = allowed_pks(mine, user, "delete")
    mine_outcomes = Outcome.objects.filter(subscription__customer=customer)
    outcome_changeable = allowed_pks(mine_outcomes, user, "change")
    outcome_deletable = allowed_pks(mine_outcomes, user, "delete")
    today = timezone.localdate()
    for subscription in subscriptions:
        subscription.can_change = subscription.pk in changeable
        subscription.can_delete = subscription.pk in deletable
        subscription.is_current = not subscription.is_retired and (
            subscription.end_date is None or subscription.end_date >= today
        )
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


def customer_by_slug(slug: str) -> Customer:
    return get_object_or_404(Customer.objects.select_related("relationship_manager"), slug=slug)


def subscriptions_response(
    request, customer, *, status: int = 200, anchor="subscriptions", **forms
):
    """The subscriptions section as an htmx partial; the customer page for a plain request."""
    if not request.htmx:
        return back_to(customer, anchor)
    context = subscriptions_context(request, customer, **forms)
    return render(request, "portfolio/customer_detail.html#subscriptions", context, status=status)


def subscription_response(request, customer, subscription, *, status: int = 200, **forms):
    """One subscription (with its outcomes) as an htmx partial; the page for a plain request."""
    if not request.htmx:
        return back_to(customer, f"subscription-{subscription.pk}")
    context = subscriptions_context(request, customer, form_for=subscription, **forms)
    context["subscription"] = next(s for s in context["subscriptions"] if s.pk == subscription.pk)
    return render(request, "portfolio/customer_detail.html#subscription", context, status=status)


@login_required
def subscription_form_view(request, slug: str, pk: int | None = None):
    """Add a subscription to the customer, or edit one of its subscriptions."""
    customer = customer_by_slug(slug)
    subscription = row_to_edit(
        request,
        Subscription.objects.select_related("service"),
        pk,
        parent=customer,
        customer=customer,
    )

    def section(form=None, status: int = 200):
        if form is None:  # saved: back to the subscription
            anchor = f"subscription-{subscription.pk}"
            return subscriptions_response(request, customer, anchor=anchor)
        form_for = subscription if pk else None
        return subscriptions_response(
            request, customer, status=status, subscription_form=form, form_for=form_for
        )

    return child_row_form(
        request,
        form_class=SubscriptionForm,
        row=subscription,
        parent=customer,
        save=lambda obj: services.save_subscription(subscription=obj),
        section=section,
    )


@login_required
@require_POST
def subscription_remove(request, slug: str, pk: int):
    """Delete a subscription; one with outcomes or other references is ended (retired)."""
    customer = customer_by_slug(slug)
    return remove_child_row(
        request,
        get_object_or_404(Subscription, pk=pk, customer=customer),
        remove=lambda obj: services.remove_subscription(subscription=obj),
        section=partial(subscriptions_response, request, customer),
    )


@login_required
def outcome_form_view(request, slug: str, pk: int | None = None, subscription_pk=None):
    """Add a Successful Customer Outcome to a subscription, or edit one."""
    customer = customer_by_slug(slug)
    if pk is None:
        subscription = get_object_or_404(
            Subscription.objects.select_related("service"), pk=subscription_pk, customer=customer
        )
        outcome = row_to_edit(
            request, Outcome.objects.all(), None, parent=subscription, subscription=subscription
        )
    else:
        outcome = row_to_edit(
            request,
            Outcome.objects.select_related("subscription__service"),
            pk,
            parent=customer,
            subscription__customer=customer,
        )
        subscription = outcome.subscription
    return child_row_form(
        request,
        form_class=OutcomeForm,
        row=outcome,
        parent=customer,
        save=lambda obj: services.save_outcome(outcome=obj),
        section=lambda form=None, status=200: subscription_response(
            request, customer, subscription, status=status, outcome_form=form
        ),
    )


@login_required
@require_POST
def outcome_remove(request, slug: str, pk: int):
    customer = customer_by_slug(slug)
    outcome = get_object_or_404(
        Outcome.objects.select_related("subscription"), pk=pk, subscription__customer=customer
    )
    return remove_child_row(
        request,
        outcome,
        remove=lambda obj: services.remove_outcome(outcome=obj),
        section=partial(subscription_response, request, customer, outcome.subscription),
    )
