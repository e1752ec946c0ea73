"""The customer portfolio: customers, their subscriptions and Successful Customer Outcomes.

Subscriptions and outcomes are edited in place on the customer page (htmx partials of
templates/portfolio/customer_detail.html); every action also works as a plain page.
"""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Prefetch
from django.http import HttpResponseRedirect
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

# --- Helpers shared by the pages whose child rows are edited in place --------------------------


def require(request, action: str, obj) -> None:
    """403 unless the signed-in user may ``action`` ``obj``."""
    if not can(request.user, action, obj):
        raise PermissionDenied


def add_service_errors(form, exc: ValidationError) -> None:
    """Put a services error beside the fields it names (above the form for the others)."""
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


def child_form_page(request, *, form, parent, status: int = 200):
    """A child row's form on a page of its own: the page without JavaScript."""
    context = {
        "form": form,
        "model_meta": form._meta.model._meta,
        "parent": parent,
        "cancel_url": parent.get_absolute_url(),
    }
    return render(request, "portfolio/child_form.html", context, status=status)


def plain_number(value: Decimal | None) -> str:
    """A stored decimal as people write it: 90, 99.5, 0.25 (never 9E+1 or 90.0000)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def back_to(parent, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{parent.get_absolute_url()}#{anchor}")


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
    changeable = set(mine.restrict(user, "change").values_list("pk", flat=True))
    deletable = set(mine.restrict(user, "delete").values_list("pk", flat=True))
    mine_outcomes = Outcome.objects.filter(subscription__customer=customer)
    outcome_changeable = set(mine_outcomes.restrict(user, "change").values_list("pk", flat=True))
    outcome_deletable = set(mine_outcomes.restrict(user, "delete").values_list("pk", flat=True))
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
        subscription.units_text = plain_number(subscription.units)
        subscription.price_text = plain_number(subscription.price_per_unit)
        subscription.outcome_list = list(subscription.outcomes.all())
        for outcome in subscription.outcome_list:
            outcome.target_text = plain_number(outcome.target)
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
    if pk is None:
        require(request, "change", customer)
        subscription = Subscription(customer=customer)
    else:
        subscription = get_object_or_404(
            Subscription.objects.select_related("service"), pk=pk, customer=customer
        )
        require(request, "change", subscription)
    data = request.POST if request.method == "POST" else None
    form = SubscriptionForm(data, instance=subscription, user=request.user)
    if data is not None and save_with(
        form, lambda obj: services.save_subscription(subscription=obj)
    ):
        return subscriptions_response(request, customer, anchor=f"subscription-{form.instance.pk}")
    status = 422 if data is not None else 200
    if not request.htmx:
        return child_form_page(request, form=form, parent=customer, status=status)
    forms = {"subscription_form": form, "form_for": subscription if pk else None}
    return subscriptions_response(request, customer, status=status, **forms)


@login_required
@require_POST
def subscription_remove(request, slug: str, pk: int):
    """Delete a subscription; one with outcomes or other references is ended (retired)."""
    customer = customer_by_slug(slug)
    subscription = get_object_or_404(Subscription, pk=pk, customer=customer)
    require(request, "delete", subscription)
    with transaction.atomic():
        services.remove_subscription(subscription=subscription)
    return subscriptions_response(request, customer)


@login_required
def outcome_form_view(request, slug: str, pk: int | None = None, subscription_pk=None):
    """Add a Successful Customer Outcome to a subscription, or edit one."""
    customer = customer_by_slug(slug)
    if pk is None:
        subscription = get_object_or_404(
            Subscription.objects.select_related("service"), pk=subscription_pk, customer=customer
        )
        require(request, "change", subscription)
        outcome = Outcome(subscription=subscription)
    else:
        outcome = get_object_or_404(
            Outcome.objects.select_related("subscription__service"),
            pk=pk,
            subscription__customer=customer,
        )
        subscription = outcome.subscription
        require(request, "change", outcome)
    data = request.POST if request.method == "POST" else None
    form = OutcomeForm(data, instance=outcome, user=request.user)
    if data is not None and save_with(form, lambda obj: services.save_outcome(outcome=obj)):
        return subscription_response(request, customer, subscription)
    status = 422 if data is not None else 200
    if not request.htmx:
        return child_form_page(request, form=form, parent=customer, status=status)
    return subscription_response(request, customer, subscription, status=status, outcome_form=form)


@login_required
@require_POST
def outcome_remove(request, slug: str, pk: int):
    customer = customer_by_slug(slug)
    outcome = get_object_or_404(
        Outcome.objects.select_related("subscription"), pk=pk, subscription__customer=customer
    )
    require(request, "delete", outcome)
    subscription = outcome.subscription
    with transaction.atomic():
        services.remove_outcome(outcome=outcome)
    return subscription_response(request, customer, subscription)
