from django.conf import settings
from django.utils.cache import patch_vary_headers

from core.choices import Channel
from core.context import change_context


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
