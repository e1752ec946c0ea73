"""A real SMTP server for the report tests (aiosmtpd): it keeps the messages it is given."""

import asyncio
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self):
        self.messages = []
        self.refuse = 0  # how many of the next messages to turn away ("try again later")
        self.refused = 0
        self.hold = None  # an Event: messages wait for it
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None:  # keep the sender waiting until the test lets it go
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 60)
        if self.refuse:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(
            {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message}
        )
        return "250 Message accepted for delivery"

    def attachments(self, index: int = -1) -> dict[str, tuple[str, bytes]]:
        message = self.messages[index]["message"]
        return {
            part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
            for part in message.iter_attachments()
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A local SMTP server on a free port, and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    inbox.port = controller.port
    yield inbox
    controller.stop()
