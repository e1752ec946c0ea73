"""Who is changing data, and through which channel: set once per request, task or command."""

import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from core.choices import Channel

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class ChangeContext:
    user: "User | None" = None  # signed in: change_context drops an anonymous user
    channel: str = Channel.COMMAND
    source: str = ""
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)


_current: ContextVar[ChangeContext | None] = ContextVar("change_context", default=None)


def current() -> ChangeContext:
    """The context in force; outside any, each change stands alone as a command's."""
    return _current.get() or ChangeContext()


@contextlib.contextmanager
def change_context(*, user=None, channel: str, source: str = ""):
    """Attribute every change made inside the block to ``user`` through ``channel``."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    token = _current.set(ChangeContext(user=user, channel=channel, source=source))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
