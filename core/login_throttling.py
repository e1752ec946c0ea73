"""Log-in throttling on top of django-axes.

Axes refuses one username from one address after LOGIN_FAILURE_LIMIT failures. Password
spraying tries one or two passwords on many usernames instead, never reaching that limit for
any of them; ``LoginThrottle`` therefore also refuses an address once its failures across every
username reach LOGIN_FAILURE_LIMIT_PER_ADDRESS, for the same cool-off.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum


def client_address(request) -> str | None:
    """The address a log-in comes from. Behind the TLS proxy that is the only way in, every
    request's connection is the proxy's: the client is the last hop the proxy appended to
    X-Forwarded-For (earlier entries are whatever the client claimed)."""
    if settings.BEHIND_TLS_PROXY:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if hops[-1]:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


class LoginThrottle(AxesDatabaseHandler):
    """Axes' database handler, which also locks out an address that failed too often."""

    def address_failures(self, request) -> int:
        attempts = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gte=get_cool_off_threshold(request),
        )
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def address_locked_out(self, request) -> bool:
        return self.address_failures(request) >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked_out(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # The failure that reaches the limit is answered as a lock-out too, as axes does.
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.address_locked_out(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
