"""The clients of the multi-node harness: a load balancer over the web processes, people in
a browser (HTTP sessions that post the pages' real forms with their CSRF token), API scripts
with a token, and the ledger of every write they attempted and what it was answered."""

import itertools
import logging
import threading
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from typing import Any

import httpx

# httpx logs every request at INFO, which the test run's logging would print.
logging.getLogger("httpx").setLevel(logging.WARNING)

# Generous: a request may wait for a roll-up's lock or a busy machine, never forever.
REQUEST_SECONDS = 60


class Backends:
    """Round robin over the web processes still up, as a load balancer does; a process that
    drops a connection is taken out of rotation (the balancer's health check)."""

    def __init__(self, urls: list[str]):
        self.urls = list(urls)
        self.down: set[str] = set()
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def pick(self) -> str:
        with self._lock:
            up = [url for url in self.urls if url not in self.down]
            assert up, "every web process is down"
            return up[next(self._turn) % len(up)]

    def mark_down(self, url: str) -> None:
        with self._lock:
            self.down.add(url)


@dataclass
class Write:
    """One write a client attempted. ``status`` is None when no answer came (the process
    died with the request)."""

    actor: str
    kind: str
    backend: str
    key: Any
    value: Any
    status: int | None = None
    error: str = ""
    detail: Any = None

    @property
    def acknowledged(self) -> bool:
        """What a client takes as done: a success, or the redirect after a form's save."""
        return self.status is not None and (200 <= self.status < 300 or self.status == 302)

    @property
    def unanswered(self) -> bool:
        return self.status is None


@dataclass
class Ledger:
    writes: list[Write] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, write: Write) -> Write:
        with self._lock:
            self.writes.append(write)
        return write

    def of(self, kind: str) -> list[Write]:
        return [write for write in self.writes if write.kind == kind]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per kind: how many were acknowledged, refused (answered otherwise), unanswered."""
        table: dict[str, dict[str, int]] = {}
        for write in self.writes:
            row = table.setdefault(write.kind, {"acknowledged": 0, "refused": 0, "unanswered": 0})
            if write.acknowledged:
                row["acknowledged"] += 1
            elif write.unanswered:
                row["unanswered"] += 1
            else:
                row["refused"] += 1
        return table


class _Forms(HTMLParser):
    """The fields of every form of a page as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: tuple[str, bool] | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"attrs": attrs, "fields": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form["fields"]
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    fields.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind not in ("submit", "button", "image", "file"):
                fields[name] = [attrs.get("value", "")]
        elif tag == "select" and name:
            self._select = (name, "multiple" in attrs)
            fields.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            select, multiple = self._select
            value = attrs.get("value", "")
            fields[select] = [*fields[select], value] if multiple else [value]
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            # A browser drops the one line break that follows <textarea>.
            self._form["fields"][self._textarea] = [self._text.removeprefix("\n")]
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Client:
    """Requests through the load balancer; reads are retried on another process when one
    dies, writes are not (their answer, or the lack of one, is recorded)."""

    def __init__(self, backends: Backends, ledger: Ledger, actor: str, **client_options):
        self.backends, self.ledger, self.actor = backends, ledger, actor
        self.http = httpx.Client(timeout=REQUEST_SECONDS, **client_options)

    def close(self) -> None:
        self.http.close()

    def read(self, path: str, *, backend: str | None = None, **options) -> httpx.Response:
        for _attempt in range(3):
            url = backend or self.backends.pick()
            try:
                response = self.http.get(url + path, **options)
            except httpx.TransportError:
                self.backends.mark_down(url)
                if backend:
                    raise
                continue
            assert response.status_code < 500, f"{path} answered {response.status_code}"
            return response
        raise AssertionError(f"no web process answered GET {path}")

    def write(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        key: Any,
        value: Any,
        backend: str | None = None,
        **options,
    ) -> Write:
        url = backend or self.backends.pick()
        write = Write(actor=self.actor, kind=kind, backend=url, key=key, value=value)
        try:
            response = self.http.request(method, url + path, **options)
        except httpx.TransportError as exc:
            self.backends.mark_down(url)
            write.error = f"{type(exc).__name__}: {exc}"
            return self.ledger.add(write)
        write.status = response.status_code
        if response.headers.get("content-type", "").startswith("application/json"):
            write.detail = response.json()
        # No input these clients send may answer 500 (a dead process gives no answer at all).
        assert response.status_code < 500, f"{method} {path} answered {response.status_code}"
        # A session holds on every web process: a redirect to sign in is no acknowledgement.
        assert not response.headers.get("location", "").startswith("/login/"), path
        return self.ledger.add(write)


class Browser(Client):
    """A person signed in: one session (cookie) used on every web process in turn."""

    def __init__(self, backends, ledger, actor: str, *, username: str, password: str):
        super().__init__(backends, ledger, actor)
        login = self.form("/login/", action="/login/")
        login.update(username=[username], password=[password])
        for _attempt in range(3):
            url = self.backends.pick()
            try:
                answer = self.http.post(url + "/login/", data=login)
            except httpx.TransportError:
                self.backends.mark_down(url)
                continue
            assert answer.status_code == 302, f"{username} could not sign in"
            return
        raise AssertionError(f"{username} could not sign in")

    def form(
        self,
        path: str,
        *,
        action: str | None = None,
        form_id: str | None = None,
        backend: str | None = None,
    ) -> dict[str, list[str]]:
        """The fields of the form (by ``action`` or ``id``) of the page at ``path``, as
        the browser would post them."""
        html = self.read(path, backend=backend).text
        for found in page_forms(html):
            if (action and found["attrs"].get("action") == action) or (
                form_id and found["attrs"].get("id") == form_id
            ):
                return dict(found["fields"])
        raise AssertionError(f"no form {action or form_id} on {path}")

    def submit(self, kind: str, path: str, fields: dict, *, key, value, backend=None) -> Write:
        """Post ``fields`` to ``path`` as the form would (the redirect is not followed)."""
        return self.write(kind, "POST", path, key=key, value=value, backend=backend, data=fields)


class Script(Client):
    """An API client with a Bearer token, sending JSON."""

    def __init__(self, backends, ledger, actor: str, *, token: str):
        super().__init__(backends, ledger, actor, headers={"Authorization": f"Bearer {token}"})

    def send(self, kind: str, method: str, path: str, body: dict, *, key, value) -> Write:
        return self.write(kind, method, path, key=key, value=value, json=body)
