"""One outgoing mail as the bytes SMTP sends, built with the standard library's `email` package.

The sender used to build each mail with Flask-Mail's `Message`, about 5 ms a mail (each
address and header sanitised again, every extra header wrapped as an encoded `Header`, so
List-Unsubscribe went out as RFC 2047 encoded words, which mail clients do not read as a URL
list). A reminder is always the same shape (one recipient, a text body and usually an HTML
one, a few headers), so this builds the same `email.mime` tree directly, under 0.5 ms a mail:
ASCII headers as plain folded text, others encoded by `email.header.Header`; text parts utf-8,
7bit or 8bit, base64 when a line is longer than the 998 characters SMTP allows; CRLF line
ends. Addresses are made by Flask-Mail's own `sanitize_address` (names encoded, IDN domains in
ASCII), as before."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email.charset import BASE64, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formatdate
from functools import lru_cache
from io import BytesIO
from typing import Any

from flask_mail import BadHeaderError, sanitize_address

MAX_LINE = 998  # RFC 5322: the longest line SMTP carries
# A value the standard folding leaves as it is: printable ASCII, single spaces between words,
# none at either end (and no encoded-word look-alike).
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")


class _Compat32(Compat32):
    """compat32 with the common case made short: a plain ASCII header that fits on its line
    comes out as 'Name: value', which is what compat32's Header-based folding (~40 µs a
    header, a dozen headers a mail) makes of it; anything else goes through that folding."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= (self.max_line_length or MAX_LINE)
            and "=?" not in value
            and _PLAIN_VALUE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


# Headers are folded only where a line would pass MAX_LINE: a fold right after "Name:" would
# start a long List-Unsubscribe value with a space.
POLICY = _Compat32().clone(linesep="\r\n", max_line_length=MAX_LINE)
# utf-8 bodies as they are (7bit or 8bit: the part's own Content-Transfer-Encoding says which);
# the standard utf-8 charset (base64) for a body with a line too long for SMTP.
# (Explicit instances: Flask-Mail changes the process-wide "utf-8" entry to 8bit on import.)
UTF8_AS_IS = Charset("utf-8")
UTF8_AS_IS.body_encoding = None  # type: ignore[assignment]
UTF8_BASE64 = Charset("utf-8")
UTF8_BASE64.body_encoding = BASE64


@dataclass(frozen=True)
class Envelope:
    """What SMTP needs besides the content: MAIL FROM and RCPT TO."""

    sender: str
    recipients: tuple[str, ...]


@lru_cache(maxsize=4096)
def _address(address: str) -> str:
    """An address as Flask-Mail writes it (name encoded, IDN domain in ASCII): the same
    recipients come back batch after batch."""
    return sanitize_address(address)


def _checked(name: str, value: str) -> str:
    """The last guard against header injection (callers strip line breaks already)."""
    if "\r" in value or "\n" in value:
        raise BadHeaderError(f"line break in the {name} header")
    return value


class MailWriter:
    """Writes mails from one sender (MAIL_DEFAULT_SENDER): what does not change from one mail
    to the next (the From line, the envelope sender) is made once."""

    def __init__(self, sender: str | tuple[str, str]) -> None:
        if isinstance(sender, tuple):
            sender = f"{sender[0]} <{sender[1]}>"
        self.envelope_sender = _address(sender)
        self.from_address = _checked("From", self.envelope_sender)

    def write(
        self,
        *,
        recipient: str,
        subject: str,
        message_id: str,
        text: str,
        html: str | None = None,
        reply_to: str | None = None,
        extra_headers: dict[str, str] | None = None,
        date: float | None = None,
    ) -> tuple[Envelope, bytes]:
        """The envelope and the content of one mail; BadHeaderError for a line break in a
        header."""
        plain = _text_part(text, "plain")
        if html:
            mail: MIMEText | MIMEMultipart = MIMEMultipart("alternative")
            mail.attach(plain)
            mail.attach(_text_part(html, "html"))
        else:
            mail = plain
        if subject:
            mail["Subject"] = _header("Subject", subject)  # type: ignore[assignment]
        mail["From"] = self.from_address
        mail["To"] = _checked("To", _address(recipient))
        mail["Date"] = formatdate(date if date is not None else time.time(), localtime=True)
        mail["Message-ID"] = _checked("Message-ID", message_id)
        if reply_to:
            mail["Reply-To"] = _checked("Reply-To", _address(reply_to))
        for name, value in (extra_headers or {}).items():
            mail[name] = _header(name, value)  # type: ignore[assignment]
        out = BytesIO()
        BytesGenerator(out, policy=POLICY).flatten(mail)
        return Envelope(self.envelope_sender, (_address(recipient),)), out.getvalue()


def _header(name: str, value: str) -> str | Header:
    """ASCII stays plain text (folded at its spaces); anything else is RFC 2047 encoded."""
    _checked(name, value)
    return value if value.isascii() and "=?" not in value else Header(value, "utf-8")


def _text_part(text: str, subtype: str) -> MIMEText:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    too_long = any(len(line) > MAX_LINE for line in text.split("\n"))
    return MIMEText(text, subtype, UTF8_BASE64 if too_long else UTF8_AS_IS)  # type: ignore[arg-type]
