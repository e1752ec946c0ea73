"""``{% record_quality object %}``: a record's data-quality section on the pages of the kinds
that have no panel slot (applications, contracts, value streams)."""

from django import template

from attestation.views import record_quality as quality_context

register = template.Library()


@register.inclusion_tag("attestation/inc/record_quality.html", takes_context=True)
def record_quality(context, record) -> dict:
    return {
        "object": record,
        "panel_context": quality_context(context["request"], record),
        "csrf_token": context.get("csrf_token"),
    }
