"""The sender's mail writer and bulk token signer: what they produce reads back as the mail and
the tokens Flask-Mail and itsdangerous would have made."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from flask_mail import BadHeaderError
from hypothesis import given, settings
from hypothesis import strategies as st

from app.operations.mail_message import MAX_LINE, POLICY, MailWriter
from app.operations.optout import make_optout_token, optout_serializer
from app.operations.partnership_links import link_serializer
from app.operations.tokens import BulkSigner

SENDER = "Big Local follow-up <no-reply@localtrust.example>"


def parsed(content: bytes):
    return message_from_bytes(content, policy=policy.default)


def test_a_mail_has_its_headers_and_both_bodies():
    envelope, content = MailWriter(SENDER).write(
        recipient="chair@partnership.example",
        subject="Reminder: “Hold an open meeting” is due on 3 Dec 2026 – Zoë's Big Local (E01)",
        message_id="<abc@partnership-followup>",
        text="Dear Zoë,\nThe action is due.",
        html="<p>Dear Zoë,</p><p>The action is due.</p>",
        reply_to="rep@localtrust.example",
        extra_headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    email = parsed(content)
    assert envelope.sender.endswith("<no-reply@localtrust.example>")
    assert envelope.recipients == ("chair@partnership.example",)
    assert email["Subject"] == (
        "Reminder: “Hold an open meeting” is due on 3 Dec 2026 – Zoë's Big Local (E01)"
    )
    assert email["From"] == SENDER
    assert email["To"] == "chair@partnership.example"
    assert email["Reply-To"] == "rep@localtrust.example"
    assert email.get_all("Message-ID") == ["<abc@partnership-followup>"]
    assert email["Date"] is not None
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain.rstrip("\n") == "Dear Zoë,\nThe action is due."  # a text part ends its line
    assert "<p>The action is due.</p>" in email.get_body(("html",)).get_content()
    assert all(len(line) <= 998 for line in content.split(b"\r\n"))
    assert b"\n" not in content.replace(b"\r\n", b"")  # every line ends CRLF


def test_a_long_header_of_urls_is_folded_as_plain_text_not_encoded_words():
    url = "https://followup.example/optout/" + "x" * 120 + "/one-click"
    _, content = MailWriter(SENDER).write(
        recipient="a@example.org",
        subject="S",
        message_id="<m@x>",
        text="t",
        extra_headers={"List-Unsubscribe": f"<{url}>, <mailto:stop@example.org?subject=x>"},
    )
    raw_headers = content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    header = raw_headers[raw_headers.index("List-Unsubscribe:") :].split("\r\nMIME-Version")[0]
    assert "=?" not in header
    assert all(len(line) <= 998 for line in header.split("\r\n"))
    assert parsed(content)["List-Unsubscribe"] == f"<{url}>, <mailto:stop@example.org?subject=x>"


def test_a_text_only_mail_and_a_line_longer_than_smtp_allows():
    long_line = "word " * 300
    _, content = MailWriter(SENDER).write(
        recipient="a@example.org", subject="S", message_id="<m@x>", text=long_line
    )
    email = parsed(content)
    assert email.get_content_type() == "text/plain"
    assert email.get_content().rstrip("\r\n") == long_line
    assert all(len(line) <= 998 for line in content.split(b"\r\n"))


def test_a_line_break_in_a_header_is_refused():
    with pytest.raises(BadHeaderError):
        MailWriter(SENDER).write(
            recipient="a@example.org", subject="One\r\nBcc: x@y", message_id="<m@x>", text="t"
        )


def test_bulk_opt_out_tokens_are_the_serializers_own(app):
    signer = BulkSigner(optout_serializer())
    ids = [1, 7, 99, 1111111111, 2**31 - 1, *range(1000, 1200)]
    assert [signer.dumps({"c": i}) for i in ids] == [make_optout_token(i) for i in ids]


def test_bulk_personal_link_tokens_are_fresh_and_load_back(app):
    serializer = link_serializer()
    signer = BulkSigner(serializer)
    for contact_id in (1, 5, 1111111111):
        token = signer.dumps({"c": contact_id, "a": contact_id})
        payload, signed_at = serializer.loads(token, return_timestamp=True)
        assert payload == {"c": contact_id, "a": contact_id}
        assert signed_at is not None


# --- the short way for plain headers gives compat32's own bytes --------------------------------

STANDARD = policy.compat32.clone(linesep="\r\n", max_line_length=MAX_LINE)


@given(
    name=st.sampled_from(["Subject", "To", "List-Unsubscribe", "X-" + "N" * 40]),
    value=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=60),
        st.text(alphabet=" \t!=?-abcXYZ<>,", max_size=40),
        st.text(max_size=20),  # non-ASCII: the standard folding, always
        st.integers(900, 1100).map(lambda n: "word " * (n // 5)),  # around the line limit
    ),
)
@settings(max_examples=400, deadline=None)
def test_a_header_comes_out_as_compat32_writes_it(name, value):
    def outcome(folding):  # the bytes, or the error (a value with a line separator in it)
        try:
            return folding.fold_binary(name, value)
        except Exception as error:
            return type(error)

    assert outcome(POLICY) == outcome(STANDARD)


def test_whole_mails_are_the_bytes_the_standard_policy_writes(monkeypatch):
    from app.operations import mail_message

    def write(**extra):
        return MailWriter(SENDER).write(
            recipient="Chair Person <chair@example.org>",
            subject="Reminder: “Recruit two residents” is due on 30 Nov 2026 – Leeds (LS1)",
            message_id="<abc@partnership-followup>",
            text="Hello\nA line\n",
            html="<p>Hello</p>",
            reply_to="rep@example.org",
            extra_headers={
                "List-Unsubscribe": "<https://example.org/optout/" + "t" * 300 + ">",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            date=1764672000.0,
            **extra,
        )[1]

    def same_boundary(content: bytes) -> bytes:  # a random one per mail
        (boundary,) = re.findall(rb'boundary="([^"]+)"', content)
        return content.replace(boundary, b"BOUNDARY")

    fast = same_boundary(write())
    monkeypatch.setattr(mail_message, "POLICY", STANDARD)
    assert fast == same_boundary(write())
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in fast
