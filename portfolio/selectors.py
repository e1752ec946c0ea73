"""Reusable reads of the service portfolio."""

from datetime import timedelta

from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from portfolio.choices import Aspect, Dimension
from portfolio.models import Contract, Service, ServiceDependency, SpecificationItem

QUADRANTS = (
    (Aspect.FACILITY, Dimension.FUNCTIONALITY),
    (Aspect.FACILITY, Dimension.FUNCTIONING),
    (Aspect.SUPPORT, Dimension.FUNCTIONALITY),
    (Aspect.SUPPORT, Dimension.FUNCTIONING),
)


def quadrant_key(aspect: str, dimension: str) -> str:
    return f"{aspect}_{dimension}"


def with_completeness(services: QuerySet) -> QuerySet:
    """Annotate each service with whether each quadrant is filled, and ``is_complete``.

    Complete means: all four quadrants filled and an owner set. Every functioning item is
    measurable by construction (a database constraint), so it needs no check here.
    """
    annotations = {
        f"has_{quadrant_key(aspect, dimension)}": Exists(
            SpecificationItem.objects.filter(
                service=OuterRef("pk"), aspect=aspect, dimension=dimension
            )
        )
        for aspect, dimension in QUADRANTS
    }
    complete = Q(owner__isnull=False)
    for name in annotations:
        complete &= Q(**{name: True})
    return services.annotate(**annotations).annotate(
        is_complete=ExpressionWrapper(complete, output_field=BooleanField())
    )


def missing_parts(service) -> list[str]:
    """What keeps an annotated service from being fully specified, in plain words."""
    missing = []
    for aspect, dimension in QUADRANTS:
        if not getattr(service, f"has_{quadrant_key(aspect, dimension)}"):
            missing.append(f"{aspect} {dimension}")
    if service.owner_id is None:
        missing.append("an owner")
    return missing


def services_owned_by(user) -> QuerySet:
    return with_completeness(
        Service.objects.filter(Q(owner=user) | Q(pk__in=user.delegated_services.values("pk")))
    ).order_by("is_complete", "name")


def dependency_cycle(service: Service) -> list[int]:
    """The ids of a cycle of dependencies through ``service`` (empty when there is none).

    Cycles are allowed (services may support each other) but shown as a warning.
    """
    table = ServiceDependency._meta.db_table
    sql = f"""
        WITH RECURSIVE walk(service_id, path) AS (
            SELECT provider_id, ARRAY[consumer_id, provider_id]
              FROM {table} WHERE consumer_id = %s
            UNION ALL
            SELECT d.provider_id, w.path || d.provider_id
              FROM walk w JOIN {table} d ON d.consumer_id = w.service_id
             WHERE NOT d.provider_id = ANY(w.path[2:]) AND w.service_id <> %s
        )
        SELECT path FROM walk WHERE service_id = %s LIMIT 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [service.pk, service.pk, service.pk])
        row = cursor.fetchone()
    return list(row[0]) if row else []


def contracts_near_notice(*, days: int = 90, today=None) -> list[Contract]:
    """Live contracts whose notice deadline falls within ``days`` from today."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=days)
    candidates = Contract.objects.filter(retired_at__isnull=True).select_related("supplier")
    candidates = candidates.filter(
        Q(renewal_date__gte=today) | Q(renewal_date__isnull=True, end_date__gte=today)
    )
    due = [c for c in candidates if c.notice_deadline and today <= c.notice_deadline <= horizon]
    return sorted(due, key=lambda c: c.notice_deadline)
