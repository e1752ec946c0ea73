from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import changelog, health, panels
from core.permissions import can


@login_required
def dashboard_view(request):
    context = {"panels": panels.render_context("dashboard", request)}
    return render(request, "core/dashboard.html", context)


@login_required
def object_history(request, app_label: str, model_name: str, pk: str):
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    except ContentType.DoesNotExist:
        raise Http404("No such kind of object") from None
    model = content_type.model_class()
    if model is None or not hasattr(model.objects, "restrict"):
        raise Http404("This kind of object keeps no history")
    obj = model.objects.restrict(request.user, "view").filter(pk=pk).first()
    if obj is None:
        if model._base_manager.filter(pk=pk).exists():
            raise PermissionDenied
        raise Http404("No such object")
    page = Paginator(changelog.history_for(obj), 50).get_page(request.GET.get("page"))
    template = "core/history.html#changes" if request.htmx else "core/history.html"
    return render(
        request,
        template,
        {"object": obj, "page": page, "can_change": can(request.user, "change", obj)},
    )


@never_cache
@require_GET
def healthz(request):
    db_ok, db_detail = health.database_state()
    broker_ok, broker_detail = health.broker_state()
    ok = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if ok else 503,
    )
