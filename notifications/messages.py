"""The e-mails: a plain-text and an HTML part, each linking back to the records with absolute
addresses under PORTICO_SITE_URL."""

from collections.abc import Sequence
from urllib.parse import urljoin

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse


def absolute(path: str) -> str:
    return urljoin(settings.PORTICO_SITE_URL.rstrip("/") + "/", path.lstrip("/"))


def compose(*, subject: str, notifications: Sequence, digest: str = "") -> dict[str, str]:
    """Subject, text and HTML of one message telling of ``notifications`` (a digest when
    ``digest`` names its frequency)."""
    context = {
        "subject": subject,
        "digest": digest,
        "items": [
            {"subject": n.subject, "body": n.body, "url": absolute(n.path)} for n in notifications
        ],
        "list_url": absolute(reverse("notifications:list")),
        "preferences_url": absolute(reverse("notifications:preferences")),
    }
    return {
        "subject": subject,
        "text": render_to_string("notifications/email.txt", context),
        "html": render_to_string("notifications/email.html", context),
    }
