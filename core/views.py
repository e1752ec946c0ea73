from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import changelog, health, panels
from core.api.forms import ApiTokenForm
from core.api.tokens import issue_token, revoke_token
from core.generic import partial_or_page
from core.models import ApiToken
from core.permissions import can, require


@login_required
def dashboard_view(request):
    context = {"panels": panels.render_context("dashboard", request)}
    return render(request, "core/dashboard.html", context)


def _primary_key(model, text: str):
    """The record key an address names; what cannot be one (``abc``, ``١٢``) names nothing."""
    try:
        if text.isascii():
            return model._meta.pk.to_python(text)
    except ValidationError:
        pass
    raise Http404("No such object")


@login_required
def object_history(request, app_label: str, model_name: str, pk: str):
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    except ContentType.DoesNotExist:
        raise Http404("No such kind of object") from None
    model = content_type.model_class()
    if model is None or not hasattr(model.objects, "restrict"):
        raise Http404("This kind of object keeps no history")
    pk = _primary_key(model, pk)
    obj = model._base_manager.filter(pk=pk).first()
    if obj is None:
        raise Http404("No such object")
    require(request.user, "view", obj)
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
    static_ok, static_detail = health.static_files_state()
    ok = db_ok and broker_ok and static_ok
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
            "static_files": {"ok": static_ok, "detail": static_detail},
        },
        status=200 if ok else 503,
    )


# --- Profile and API tokens --------------------------------------------------------------------


def _profile(request, *, form=None, new_token=None, new_secret="", status=200):
    context = {
        "roles": list(request.user.groups.order_by("name").values_list("name", flat=True)),
        "tokens": list(ApiToken.objects.filter(user=request.user).select_related("user")),
        "form": form or ApiTokenForm(),
        "new_token": new_token,
        "new_secret": new_secret,
    }
    template = partial_or_page(request, "core/profile.html", "tokens")
    return render(request, template, context, status=status)


@never_cache
@login_required
@require_GET
def profile_view(request):
    return _profile(request)


@never_cache
@login_required
@require_POST
def token_create(request):
    """Create a token and show its secret, this once (the page is never cached)."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _profile(request, form=form, status=422)
    token, secret = issue_token(
        user=request.user,
        name=form.cleaned_data["name"],
        write=form.cleaned_data["write"],
        expires_in_days=form.cleaned_data["expires_in_days"],
    )
    return _profile(request, new_token=token, new_secret=secret, status=201)


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    revoke_token(token=token)
    if request.htmx:
        return _profile(request)
    return HttpResponseRedirect(reverse("profile") + "#api-tokens")
