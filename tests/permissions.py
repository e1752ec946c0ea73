"""A reusable permission matrix: the same request made by each kind of user, with the
status each must get, and (for writes) proof that a refused request changed nothing."""

from collections.abc import Callable


def assert_permission_matrix(
    client,
    *,
    method: str,
    url: str,
    expected: dict,
    data: dict | None = None,
    unchanged: Callable[[], object] | None = None,
    **extra,
):
    """``expected`` maps a user (or None for anonymous) to the status code it must get.

    For anonymous browser requests, 302 to the login page counts as refusal. When
    ``unchanged`` is given, it is called before and after each refused request and the two
    results must be equal.
    """
    failures = []
    for user, status in expected.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        before = unchanged() if unchanged and status >= 300 else None
        response = getattr(client, method.lower())(url, data=data or {}, **extra)
        who = getattr(user, "username", "anonymous")
        if response.status_code != status:
            failures.append(f"{who}: {method} {url} answered {response.status_code}, not {status}")
        if unchanged and status >= 300 and unchanged() != before:
            failures.append(f"{who}: refused {method} {url} still changed data")
    client.logout()
    assert not failures, "\n".join(failures)
