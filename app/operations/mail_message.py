"""One outgoing mail as the bytes SMTP sends, written directly.

The sender used to build each mail with Flask-Mail's `Message`, which makes a tree of
`email.mime` objects and runs `email.policy.SMTP`'s generator over it: about 5 ms a mail, most
of it parsing and refolding each header (and it wrote List-Unsubscribe as RFC 2047 encoded
words, which mail clients do not read as a URL list). A reminder is always the same shape (one
recipient, a text body and usually an HTML one, a few headers), so it is written here as text:
the same headers, addresses made by Flask-Mail's own `sanitize_address`, non-ASCII header text
encoded by `email.header.Header`, bodies 7bit or 8bit as before (base64 when a line is longer
than SMTP allows), CRLF line ends."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate
from functools import lru_cache

from flask_mail import BadHeaderError, sanitize_address

# RFC 5322: a line is at most 998 characters; header lines are folded before 78 if they can be.
MAX_LINE = 998
FOLD_AT = 78
_LONG_LINE = re.compile(rb"[^\r\n]{%d}" % (MAX_LINE + 1))
_boundaries = random.Random()


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


def header_line(name: str, value: str) -> str:
    """`Name: value` with CRLF, unstructured text: ASCII folded at spaces before 78 columns,
    anything else (or text that would read as an encoded word) RFC 2047 encoded."""
    if "\r" in value or "\n" in value:
        raise BadHeaderError(f"line break in the {name} header")
    if not value.isascii() or "=?" in value:
        encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
        return f"{name}: {encoded}\r\n"
    return _folded(f"{name}: {value}") + "\r\n"


def _folded(line: str) -> str:
    """`Name: value` folded at its spaces before FOLD_AT columns where it can be; the value's
    first word stays on the name's line (a fold right after the colon would start the value
    with a space)."""
    if len(line) <= FOLD_AT:
        return line
    name, _, value = line.partition(" ")
    words = value.split(" ")
    lines: list[str] = []
    current = f"{name} {words[0]}"
    for word in words[1:]:
        if len(current) + 1 + len(word) > FOLD_AT:
            lines.append(current)
            current = " " + word  # the folding white space is the space that was there
        else:
            current = f"{current} {word}"
    lines.append(current)
    return "\r\n".join(lines)


def _address_line(name: str, address: str) -> str:
    value = _address(address)
    if "\r" in value or "\n" in value:
        raise BadHeaderError(f"line break in the {name} header")
    return _folded(f"{name}: {value}") + "\r\n"


def _body(text: str, subtype: str, *, last: bool) -> bytes:
    """A text part's headers and content (utf-8), its line ends CRLF; the `last` thing in the
    mail ends with a line end (a part of a multipart is followed by its boundary's)."""
    content = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode()
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
    if _LONG_LINE.search(content):
        import base64

        encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
        return (head + "Content-Transfer-Encoding: base64\r\n\r\n").encode() + encoded
    encoding = "7bit" if content.isascii() else "8bit"
    if last and not content.endswith(b"\r\n"):
        content += b"\r\n"
    return (head + f"Content-Transfer-Encoding: {encoding}\r\n\r\n").encode() + content


class MailWriter:
    """Writes mails from one sender (MAIL_DEFAULT_SENDER): what does not change from one mail
    to the next (the From line, the envelope sender) is made once."""

    def __init__(self, sender: str | tuple[str, str]) -> None:
        if isinstance(sender, tuple):
            sender = f"{sender[0]} <{sender[1]}>"
        self.envelope_sender = _address(sender)
        self.from_line = _address_line("From", sender)

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
        header (callers strip them: this is the last guard)."""
        head = [header_line("Subject", subject)] if subject else []
        head += [
            self.from_line,
            _address_line("To", recipient),
            f"Date: {formatdate(date if date is not None else time.time(), localtime=True)}\r\n",
            header_line("Message-ID", message_id),
        ]
        if reply_to:
            head.append(_address_line("Reply-To", reply_to))
        for name, value in (extra_headers or {}).items():
            head.append(header_line(name, value))
        head.append("MIME-Version: 1.0\r\n")
        plain = _body(text, "plain", last=not html)
        if html:
            rich = _body(html, "html", last=False)
            boundary = _boundary(plain, rich)
            mark = f"--{boundary}\r\n".encode()
            head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n')
            content = (
                "".join(head).encode()
                + b"\r\n"
                + mark
                + plain
                + b"\r\n"
                + mark
                + rich
                + f"\r\n--{boundary}--\r\n".encode()
            )
        else:
            content = "".join(head).encode() + plain
        return Envelope(self.envelope_sender, (_address(recipient),)), content


def _boundary(*parts: bytes) -> str:
    while True:
        boundary = f"==============={_boundaries.getrandbits(63):019d}=="
        mark = boundary.encode()
        if not any(mark in part for part in parts):
            return boundary
