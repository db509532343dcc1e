"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port), collecting what it receives.

Use it from any test module (the fixture is named `smtp_server`; importing it under its
function name keeps ruff from reporting each test argument as a redefinition, F811):

    from tests.smtp_server import smtp_server_fixture  # noqa: F401

    def test_something(app, smtp_server):
        smtp_server.configure(app)   # MAIL_SERVER/MAIL_PORT point at it, sending not suppressed
        ...
        assert len(smtp_server.messages) == 1

`smtp_server.stop()` / `.start()` take it down and bring it back on the same port;
`smtp_server.delay = 0.05` slows every DATA reply (to catch a sender mid-batch);
`smtp_server.refuse.add(address)` refuses a recipient for good (550 5.1.1);
`smtp_server.refuse_after_data.add(address)` accepts it at RCPT TO, refuses the message with
550 5.1.1 after DATA (servers that check mailboxes late);
`smtp_server.refuse_all = True` answers every recipient 554 5.7.1, as a relay refusing everything;
`smtp_server.hold_until_senders = 2` holds every message until two connections have started one;
`smtp_server.connections` counts the connections that have sent mail."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property

import pytest
from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @cached_property
    def message(self) -> EmailMessage:
        """The parsed email (parsed on first use: parsing is slow, hundreds arrive at once)."""
        return message_from_bytes(self.content, policy=policy.default)

    @property
    def message_id(self) -> str:
        headers = self.content.split(b"\r\n\r\n", 1)[0]
        match = _MESSAGE_ID.search(headers)
        return match.group(1).decode() if match else ""


class _Recorder:
    """aiosmtpd handler: keeps every accepted message."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.server.refuse_all:
            return "554 5.7.1 Relay access denied"
        if address in self.server.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        with self.server.lock:
            self.server.peers.add(session.peer)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        deadline = time.monotonic() + 60
        while len(self.server.peers) < self.server.hold_until_senders:
            if time.monotonic() > deadline:
                return "451 4.3.0 Gave up waiting for the other senders"
            await asyncio.sleep(0.01)
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        if set(envelope.rcpt_tos) & self.server.refuse_after_data:
            return "550 5.1.1 Mailbox unknown"
        received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
        with self.server.lock:
            self.server.messages.append(received)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = _free_port(host)
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.refuse: set[str] = set()  # recipients answered with a permanent 550
        self.refuse_after_data: set[str] = set()  # the same, answered only after DATA
        self.refuse_all = False  # every recipient answered 554 (the relay's state)
        # Accept no message until this many different connections have started one, so
        # concurrent senders are certainly sending at the same time.
        self.hold_until_senders = 0
        self.peers: set = set()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(_Recorder(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def configure(self, app) -> None:
        """Point the app's Flask-Mail at this server (Flask-Mail reads config at init_app)."""
        from app.extensions import mail

        app.config.update(MAIL_SERVER=self.host, MAIL_PORT=self.port, MAIL_SUPPRESS_SEND=False)
        mail.init_app(app)

    def env(self) -> dict[str, str]:
        """Environment variables for a subprocess (`flask outbox send`) to use this server."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": str(self.port)}

    @property
    def connections(self) -> int:
        """How many connections have sent mail (each has its own client address and port)."""
        with self.lock:
            return len(self.peers)

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r.message_id for r in self.messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait (polling) until at least `count` messages have arrived."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.messages) >= count:
                return True
            time.sleep(0.01)
        return len(self.messages) >= count


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(name="smtp_server")
def smtp_server_fixture():
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


smtp_server = (
    smtp_server_fixture  # the same fixture, for `from tests.smtp_server import smtp_server`
)


def queue_message(key: str, *, now, case=None, contact=None, **fields):
    """Put a message in the outbox directly, as the sweep would (flushed, not committed)."""
    from app.extensions import db
    from app.models import OutboxMessage

    values = {
        "kind": "action_overdue",
        "recipient": f"{key.replace(':', '-')}@example.org",
        "reply_to": "rep@example.org",
        "subject": f"Reminder {key}",
        "body_text": f"Plain text of {key}",
        "body_html": f"<p>HTML of <b>{key}</b></p>",
        "not_before": now,
        "status": "queued",
        "attempts": 0,
        **fields,
    }
    message = OutboxMessage(
        key=key,
        case_id=case.id if case is not None else None,
        contact_id=contact.id if contact is not None else None,
        **values,
    )
    db.session.add(message)
    db.session.flush()
    return message
