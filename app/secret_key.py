"""The signing key: configured (at least 32 characters), or generated once into instance/."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"


class InsecureSecretKey(RuntimeError):
    """A configured SECRET_KEY too short to protect sessions and links."""


def instance_secret_key(instance_path: str | os.PathLike) -> str:
    """The key stored in `instance_path`, created (mode 0600) on first use.

    The file is written under a unique temporary name and then hard-linked into place, which
    fails if another process got there first: every worker ends up reading the same key.
    """
    target = Path(instance_path) / SECRET_KEY_FILE
    if not target.exists():
        temp = target.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, target)
                log.info("generated a new secret key in %s", target)
            except FileExistsError:
                pass  # another worker won the race: use its key
        finally:
            os.unlink(temp)
    return target.read_text().strip()


def init_secret_key(app: Flask) -> None:
    """Refuse a short configured key (outside tests); generate one when none is set."""
    key = app.config.get("SECRET_KEY")
    if not key:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
        return
    if len(key) < MIN_SECRET_KEY_LENGTH and not app.config.get("TESTING"):
        raise InsecureSecretKey(
            f"SECRET_KEY is {len(key)} characters long: it must have at least "
            f"{MIN_SECRET_KEY_LENGTH}. Set a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or unset "
            "SECRET_KEY to let the app generate one in instance/secret_key."
        )
