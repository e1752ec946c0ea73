"""The pages of core: the dashboard, a record's history, the profile with its API tokens, the
health check, and signing in (log-in page, single sign-on, password reset)."""

import dataclasses
import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.http import HttpResponseRedirect
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from core import changelog
from core import finder
from core import health
from core import panels
from core import pickers
from core import roles
from core import signin
from core.api.forms import ApiTokenForm
from core.api.tokens import issue_token
from core.api.tokens import revoke_token
from core.forms import LanguageForm
from core.forms import SearchForm
from core.forms import SignInForm
from core.forms import people_for_picker
from core.generic import ObjectMixin
from core.generic import PageView
from core.models import ApiToken
from core.permissions import can
from core.translations import preferred_language

logger = logging.getLogger(__name__)


class SearchView(PageView):
    """Everything the user may see, found by words (core.finder): the page, grouped by kind,
    and its ``suggestions`` partial for the header's search box."""

    template_name = "core/search.html"
    partial = "suggestions"

    def get_context(self) -> dict:
        form = SearchForm(self.request.GET)
        groups: list[finder.Group] = []
        text, kind = "", None
        if form.is_valid():
            text = form.cleaned_data["q"]
            kind = finder.kind_named(form.cleaned_data["kind"])
            if self.request.htmx and not self.request.htmx.boosted:
                limit = finder.SUGGESTED
            else:
                limit = finder.LISTED_OF_ONE_KIND if kind else finder.LISTED
            groups = finder.find(self.request.user, text, only=kind, limit=limit)
        return {
            "form": form,
            "q": text,
            "search_text": text,
            "only": kind,
            "groups": groups,
            "total": sum(group.count for group in groups),
        }


class PickView(PageView):
    """The suggestions under a picker (core.pickers): the records of one kind the user may
    see whose words begin with the words typed (``q``), with their kind and owner."""

    template_name = "core/pick_options.html"

    def get_context(self) -> dict:
        kind = finder.kind_named(self.kwargs["kind"])
        if kind is None:
            raise Http404("No such kind of record.")
        text = self.request.GET.get("q", "")[: finder.MAX_QUERY_LENGTH]
        target = self.request.GET.get("for", "")[: finder.MAX_QUERY_LENGTH]
        if kind.name == pickers.PERSON and target:
            # A form's people: those its field offers, to whoever may use the form, each
            # shown with their username.
            people = people_for_picker(self.request.user, target)
            shown = dataclasses.replace(kind, context="username")
            group = finder.find_among(shown, people, text, pickers.SUGGESTED)
            hits = pickers.found_by_what_is_shown(text, group.hits) if group else []
            return {"kind": kind, "q": text.strip(), "hits": hits}
        groups = finder.find(self.request.user, text, only=kind, limit=pickers.SUGGESTED)
        return {"kind": kind, "q": text.strip(), "hits": groups[0].hits if groups else []}


class DashboardView(PageView):
    """Each of the signed-in person's roles with its panels (core.panels): someone holding
    several roles sees each one's."""

    template_name = "core/dashboard.html"

    def get_context(self) -> dict:
        held = roles.roles_of(self.request.user)
        return {"roles": held, "sections": panels.dashboard_sections(self.request, held)}


def _primary_key(model, text: str):
    """The record key an address names; what cannot be one (``abc``, ``١٢``) names nothing."""
    try:
        if text.isascii():
            return model._meta.pk.to_python(text)
    except ValidationError:
        pass
    raise Http404("No such object")


class HistoryView(ObjectMixin, View):
    """The change log of any record that keeps one, for whoever may see the record."""

    http_method_names = ["get", "head"]

    def get_object(self):
        try:
            content_type = ContentType.objects.get_by_natural_key(
                self.kwargs["app_label"], self.kwargs["model_name"]
            )
        except ContentType.DoesNotExist:
            raise Http404("No such kind of object") from None
        model = content_type.model_class()
        # Accounts keep one too: people.services logs their changes (a Portfolio manager's view).
        keeps_history = model is not None and (
            hasattr(model._default_manager, "restrict") or model is get_user_model()
        )
        if model is None or not keeps_history:
            raise Http404("This kind of object keeps no history")
        self.model = model
        self.kwargs["pk"] = _primary_key(self.model, self.kwargs["pk"])
        return super().get_object()

    def get_queryset(self):
        return self.model._base_manager.all()

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        page = Paginator(changelog.history_for(obj), 50).get_page(request.GET.get("page"))
        template = "core/history.html#changes" if request.htmx else "core/history.html"
        context = {"object": obj, "page": page, "can_change": can(request.user, "change", obj)}
        return render(request, template, context)


@method_decorator(never_cache, name="dispatch")
class HealthView(View):
    """Whether this process can serve: its database, its broker and its static files."""

    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
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


@method_decorator(never_cache, name="dispatch")
class ProfileView(PageView):
    """The signed-in user's roles and API tokens; a new token's secret is shown this once
    (the page is never cached)."""

    http_method_names = ["get", "head", "post"]
    template_name = "core/profile.html"
    partial = "tokens"

    def get_context(self, *, form=None, new_token=None, new_secret="", language_form=None) -> dict:
        user = self.request.user
        if language_form is None:
            language_form = LanguageForm(initial={"language": preferred_language(user)})
        return {
            "language_form": language_form,
            "roles": list(user.groups.order_by("name").values_list("name", flat=True)),
            "tokens": list(ApiToken.objects.filter(user=user).select_related("user")),
            "form": form or ApiTokenForm(),
            "new_token": new_token,
            "new_secret": new_secret,
        }

    def answer(self, status: int = 200, **context):
        template = "core/profile.html#tokens" if self.request.htmx else self.template_name
        return render(self.request, template, self.get_context(**context), status=status)


class TokenCreateView(ProfileView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            return self.answer(status=422, form=form)
        token, secret = issue_token(
            user=request.user,
            name=form.cleaned_data["name"],
            write=form.cleaned_data["write"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
        return self.answer(status=201, new_token=token, new_secret=secret)


class TokenRevokeView(ProfileView):
    """Revoke one of one's own tokens (another's is no token of this page: 404)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        token = ApiToken.objects.filter(pk=kwargs["pk"], user=request.user).first()
        if token is None:
            raise Http404("No such token")
        revoke_token(token=token)
        if request.htmx:
            return self.answer()
        return HttpResponseRedirect(reverse("profile") + "#api-tokens")


# --- Sign-in -----------------------------------------------------------------------------------


def signin_options() -> dict:
    """The ways in this installation offers, for the log-in page, which names them all."""
    options = {
        "local_passwords": settings.LOGIN_LOCAL_PASSWORDS,
        "directory": bool(settings.LDAP_SERVER_URI),
        "single_sign_on": bool(settings.OIDC_ISSUER),
        "single_sign_on_label": settings.OIDC_BUTTON_LABEL,
    }
    options["signin_ways"] = [
        way
        for on, way in (
            (options["single_sign_on"], "Single sign-on (OpenID Connect), with the button below"),
            (options["directory"], "Your directory account (LDAP / Active Directory)"),
            (options["local_passwords"], "A local Portico account and its password"),
        )
        if on
    ]
    return options


class LoginView(auth_views.LoginView):
    """The log-in page: a button for single sign-on, the username and password form for local
    accounts and the directory, each only when on."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | signin_options()

    def post(self, request, *args, **kwargs):
        options = signin_options()
        if not (options["local_passwords"] or options["directory"]):
            raise Http404("No sign-in by password here")
        return super().post(request, *args, **kwargs)


class LocalPasswordsOnly:
    """Password reset exists for local accounts only, and only while local passwords are on."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.LOGIN_LOCAL_PASSWORDS:
            raise Http404("Local passwords are off")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def reset_hours() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 3600


class PasswordResetView(LocalPasswordsOnly, auth_views.PasswordResetView):
    """Mails a one-time link to a local account with that address; the answer is the same
    whether or not there is one, so the page does not tell who has an account."""

    email_template_name = "registration/password_reset_email.txt"

    @property
    def extra_email_context(self):
        return {"reset_hours": reset_hours()}


class PasswordResetDoneView(LocalPasswordsOnly, auth_views.PasswordResetDoneView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"reset_hours": reset_hours()}


class PasswordResetConfirmView(LocalPasswordsOnly, auth_views.PasswordResetConfirmView):
    pass


class PasswordResetCompleteView(LocalPasswordsOnly, auth_views.PasswordResetCompleteView):
    pass


UNREACHABLE_PROVIDER = "The identity provider cannot be reached now. Please try again later."


class SingleSignOnOnly:
    def dispatch(self, request, *args, **kwargs):
        if not settings.OIDC_ISSUER:
            raise Http404("Single sign-on is off")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SingleSignOnStartView(SingleSignOnOnly, OIDCAuthenticationRequestView):
    """Sends the browser to the OpenID provider, which sends it back to the callback."""

    def __init__(self, **kwargs):
        # The parent reads the provider's address here; it is looked up when first needed.
        View.__init__(self, **kwargs)

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:
        return signin.provider_metadata()["authorization_endpoint"]

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        try:
            return super().get(request)
        except (requests.RequestException, ValueError, KeyError):
            signin.forget_provider_metadata()
            messages.error(request, UNREACHABLE_PROVIDER)
            return HttpResponseRedirect(reverse("login"))


class SingleSignOnCallbackView(SingleSignOnOnly, OIDCAuthenticationCallbackView):
    """Where the OpenID provider sends the browser back: signs the person in, or says why not."""

    @property
    def failure_url(self) -> str:
        return reverse("login")

    def get(self, request):
        try:
            return super().get(request)
        except requests.HTTPError:
            # The provider answered, and refused: a wrong client secret, an expired code.
            logger.exception("single sign-on: the provider refused the code")
            return self.login_failure()
        except requests.RequestException:
            signin.forget_provider_metadata()
            logger.exception("single sign-on: the provider could not be asked")
            messages.error(request, UNREACHABLE_PROVIDER)
            return self.login_failure()

    def login_failure(self):
        reason = signin.refusal(self.request)
        if reason:
            messages.error(self.request, reason)
        elif self.request.GET.get("error"):
            messages.error(self.request, "The identity provider did not sign you in.")
        elif not messages.get_messages(self.request):
            messages.error(self.request, "Single sign-on did not sign you in. Please try again.")
        return super().login_failure()
