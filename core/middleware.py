from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from core.api.errors import body
from core.choices import Channel
from core.context import change_context
from core.translations import activate_preferred_language


class PreferredLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: a signed-in person's chosen
    language. The API's token users are seen by core.api.auth, which does the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_preferred_language(request, getattr(request, "user", None))
        return self.get_response(request)


class ChangeContextMiddleware:
    """Attribute changes made while handling a request to its user: channel web, or admin.
    API views set their own channel (api or sync) around the write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = Channel.ADMIN if request.path.startswith("/admin/") else Channel.WEB
        with change_context(user=getattr(request, "user", None), channel=channel):
            return self.get_response(request)


class VaryOnHtmxMiddleware:
    """A page and its htmx partial share a URL: caches must keep them apart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class PermissionsPolicyMiddleware:
    """Switch off the browser features Portico does not use (settings.PERMISSIONS_POLICY), so
    an injected script or an embedded page cannot ask for the camera, location and the like."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


class RefuseNullCharactersMiddleware:
    """A query parameter holding a NUL character is refused (400) before any view reads it:
    PostgreSQL can neither store nor compare text with one, so it can never match anything."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return self.refuse(request, name)
        return self.get_response(request)

    @staticmethod
    def refuse(request, name: str):
        shown = name.replace("\x00", "\\0")[:50]
        reason = f"The query parameter “{shown}” holds a null character."
        if request.path.startswith("/api/"):
            errors = {shown: ["Null characters are not allowed."]}
            return JsonResponse(body(400, "invalid", reason, errors), status=400)
        return render(request, "400.html", {"reason": reason}, status=400)
