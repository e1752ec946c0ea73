from django import template

from core.permissions import can
from maturity import selectors
from maturity.models import Assessment
from maturity.questionnaire import LEVELS

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_maturity(context, customer):
    """The customer's relationship (levels, provider, mismatch) when the reader may see it.

    ``{% customer_maturity customer as relationship %}``
    """
    user = context.get("user") or getattr(context.get("request"), "user", None)
    if customer is None or not can(user, "view", Assessment):
        return None
    return selectors.relationship_for_customer(customer)


@register.filter
def level_focus(level) -> str:
    """``3|level_focus`` → "service"."""
    return LEVELS[int(level)].focus if level else ""


@register.filter
def provider_offers(level) -> str:
    return LEVELS[int(level)].provider_offers if level else ""


@register.filter
def customer_wants(level) -> str:
    return LEVELS[int(level)].customer_wants if level else ""


@register.filter
def get_item(mapping, key):
    """``beliefs|get_item:element`` for dictionaries keyed by a variable."""
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def belief_gap(beliefs, element) -> int | None:
    """Self-assessed score minus the evidence score of ``element`` (an ElementEvidence)."""
    if not beliefs or element.element not in beliefs:
        return None
    return beliefs[element.element] - element.score
