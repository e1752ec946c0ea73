from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import ObjectChange


def changes_of(model, **filters):
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(model), **filters
    ).order_by("id")


def service_item(n, **extra) -> dict:
    return {"external_id": f"svc-{n}", "name": f"Service {n}", "kind": "supporting", **extra}


def sync(api, resource: str, items: list, *, source: str = "cmdb", **envelope):
    return api.post(f"/api/v1/sync/{resource}/", {"source": source, "items": items, **envelope})


def sync_counting_queries(api, resource: str, items: list, **options):
    """``sync``, and the number of queries it made: (response, count)."""
    with CaptureQueriesContext(connection) as captured:
        response = sync(api, resource, items, **options)
    return response, len(captured.captured_queries)


def outcomes(response) -> list[str]:
    return [item["outcome"] for item in response.json()["items"]]
