import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from core.api.tokens import issue_token


class ApiClient:
    """Requests as a script sends them: JSON bodies, a Bearer token (or none)."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def request(self, method: str, url: str, data=None, *, headers=None, **params):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        kwargs = {"headers": headers}
        if data is not None:
            kwargs["data"] = data if isinstance(data, str | bytes) else json.dumps(data)
            kwargs["content_type"] = "application/json"
        if params:
            kwargs["QUERY_STRING"] = urlencode(
                {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}
            )
        return getattr(self.client, method.lower())(url, **kwargs)

    def get(self, url, **kw):
        return self.request("get", url, **kw)

    def post(self, url, data=None, **kw):
        return self.request("post", url, data, **kw)

    def put(self, url, data=None, **kw):
        return self.request("put", url, data, **kw)

    def patch(self, url, data=None, **kw):
        return self.request("patch", url, data, **kw)

    def delete(self, url, **kw):
        return self.request("delete", url, **kw)


@pytest.fixture
def api_for():
    """``api_for(user, write=True)``: a client with a fresh token of ``user``."""

    def make(user, *, write: bool = True) -> ApiClient:
        _, text = issue_token(user=user, name="tests", write=write)
        return ApiClient(text)

    return make


@pytest.fixture
def pm_api(portfolio_manager, api_for):
    return api_for(portfolio_manager)


@pytest.fixture
def anonymous_api():
    return ApiClient()
