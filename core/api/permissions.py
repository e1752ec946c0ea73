"""Who may call the API. Object rights come from core.permissions, unchanged: the views call
``restrict``/``can`` exactly as the browser views do. Here only the token's own limit."""

from rest_framework import permissions

from core.models import ApiToken


class TokenRights(permissions.BasePermission):
    """Authenticated; and a read-only token may only read."""

    message = "This token is read-only: create one with write rights to change data."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return not isinstance(request.auth, ApiToken) or request.auth.write
