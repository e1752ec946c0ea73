"""Authentication by API token (``Authorization: Bearer ptk_…``); the browser's session works
too (rest_framework.authentication.SessionAuthentication, listed after this class)."""

from rest_framework import authentication
from rest_framework import exceptions

from core.api.tokens import find_token
from core.api.tokens import mark_used
from core.translations import activate_preferred_language

KEYWORDS = ("bearer", "token")


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Give the token as: Authorization: Bearer <token>."
            )
        try:
            text = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = find_token(text)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, expired or revoked.")
        mark_used(token)
        # The person's chosen language wins over the request's Accept-Language, as on pages
        # (core.middleware.PreferredLanguageMiddleware, which sees no token).
        activate_preferred_language(request, token.user)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
