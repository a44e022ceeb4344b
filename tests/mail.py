"""A real SMTP server for tests (aiosmtpd, on a free port of 127.0.0.1), and what it received,
parsed. Tests that check e-mail point Django (or a worker) at it; nothing is mocked."""

import email
import socket
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One e-mail as the server got it."""

    envelope_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"]).strip()  # a folded encoded header starts with a space

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None and part.get_content_type() == "text/html" else ""


@dataclass
class SMTPServer:
    port: int
    received: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self) -> "SMTPServer":
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.envelope_to]

    def wait_for(self, count: int, deadline: float = 60) -> list[Received]:
        end = time.monotonic() + deadline
        while len(self.received) < count and time.monotonic() < end:
            time.sleep(0.1)
        assert len(self.received) >= count, f"gave up waiting for {count} e-mails ({len(self.received)} came)"
        return self.received
