from django.contrib.contenttypes.models import ContentType

from core.models import ObjectChange


def changes_of(model, **filters):
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(model), **filters
    ).order_by("id")


def service_item(n, **extra) -> dict:
    return {"external_id": f"svc-{n}", "name": f"Service {n}", "kind": "supporting", **extra}


def sync(api, resource: str, items: list, *, source: str = "cmdb", **envelope):
    return api.post(f"/api/v1/sync/{resource}/", {"source": source, "items": items, **envelope})


def outcomes(response) -> list[str]:
    return [item["outcome"] for item in response.json()["items"]]
