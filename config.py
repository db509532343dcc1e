"""Configuration classes, read from environment variables (a `.env` file is loaded if present)."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
load_dotenv(ROOT / ".env")


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def unsubscribe_address_for(sender: str) -> str:
    """unsubscribe@ the domain of a sender such as 'Name <no-reply@example.org>'."""
    address = sender.rsplit("<", 1)[-1].rstrip("> ").strip()
    domain = address.rpartition("@")[2] if "@" in address else ""
    return f"unsubscribe@{domain or 'localhost'}"


def default_database_url() -> str:
    return f"sqlite:///{ROOT / 'instance' / 'partnership.db'}"


class Config:
    # Unset: a random key is generated once into instance/secret_key (app/secret_key.py).
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled connection idle longer than this is pinged before use (app/connections.py); one
    # in steady use is not. 0: ping at every checkout.
    POOL_PING_IDLE_SECONDS = float(os.environ.get("POOL_PING_IDLE_SECONDS") or 2)
    # SQLite only: how long a write waits for another's write lock (an import holds it a few
    # seconds); then the web answers "busy, try again" (503) with the typed input kept. Below
    # a WSGI server's worker timeout (gunicorn: 30 s).
    SQLITE_BUSY_TIMEOUT_SECONDS = float(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS") or 15)
    # Level of the app's operator log lines (logger "app"), written to stderr.
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()

    # Mail. With no MAIL_SERVER the outbox keeps mail and shows it on the Outbox page.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Big Local follow-up <no-reply@localtrust.org.uk>"
    )
    # The mailto in every partnership mail's List-Unsubscribe header (RFC 8058): a mailbox
    # someone reads; by default unsubscribe@ the sender's domain.
    MAIL_UNSUBSCRIBE_ADDRESS = os.environ.get(
        "MAIL_UNSUBSCRIBE_ADDRESS"
    ) or unsubscribe_address_for(MAIL_DEFAULT_SENDER)
    PROGRAMME_TEAM_EMAIL = os.environ.get("PROGRAMME_TEAM_EMAIL", "programmes@localtrust.org.uk")
    SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@localtrust.org.uk")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    # Reminders (docs/reminders.md): each timing is configuration; these are the defaults.
    REMINDER_DUE_SOON_DAYS = _int("REMINDER_DUE_SOON_DAYS", 7)
    REMINDER_OVERDUE_AFTER_DAYS = _int("REMINDER_OVERDUE_AFTER_DAYS", 1)
    REMINDER_OVERDUE_EVERY_DAYS = _int("REMINDER_OVERDUE_EVERY_DAYS", 7)
    REMINDER_OVERDUE_MAX = _int("REMINDER_OVERDUE_MAX", 3)
    REMINDER_CHECKIN_EVERY_DAYS = _int("REMINDER_CHECKIN_EVERY_DAYS", 42)
    REMINDER_STALE_AFTER_DAYS = _int("REMINDER_STALE_AFTER_DAYS", 28)
    REMINDER_STALE_EVERY_DAYS = _int("REMINDER_STALE_EVERY_DAYS", 14)
    # Case notices (assigned, escalated, returned) older than this are not mailed late.
    REMINDER_NOTICE_WINDOW_DAYS = _int("REMINDER_NOTICE_WINDOW_DAYS", 14)
    # A pause of a case's partnership reminders reaches at most this many days ahead.
    REMINDER_PAUSE_MAX_DAYS = _int("REMINDER_PAUSE_MAX_DAYS", 366)
    # How long the personal link in a partnership email works (each new mail makes a new one).
    PARTNERSHIP_LINK_DAYS = _int("PARTNERSHIP_LINK_DAYS", 30)
    # Requests to the personal page, per link and per address (Flask-Limiter syntax; counted
    # where sign-in attempts are). An update takes a handful of requests; a probe takes many.
    PARTNERSHIP_LIMIT_PER_TOKEN = os.environ.get("PARTNERSHIP_LIMIT_PER_TOKEN", "40 per 15 minutes")
    PARTNERSHIP_LIMIT_PER_ADDRESS = os.environ.get(
        "PARTNERSHIP_LIMIT_PER_ADDRESS", "120 per 15 minutes"
    )

    # Outbox sender: a temporary failure (server down, 4xx, a relay refusing everything) backs
    # the whole sender off, from this many seconds doubling up to 15 minutes, and never fails a
    # message before OUTBOX_GIVE_UP_HOURS; a claim older than the lease is taken over (a
    # crashed sender loses nothing), and a run stops at half the lease.
    OUTBOX_GIVE_UP_HOURS = _int("OUTBOX_GIVE_UP_HOURS", 72)
    OUTBOX_BACKOFF_SECONDS = _int("OUTBOX_BACKOFF_SECONDS", 60)
    OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 120)
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    # Health (/healthz, `flask health`, the Outbox and dashboard panels): degraded when the
    # last reminder sweep is older than this, or due mail has waited longer than this.
    HEALTH_SWEEP_LATE_MINUTES = _int("HEALTH_SWEEP_LATE_MINUTES", 15)
    HEALTH_MAIL_WAITING_MINUTES = _int("HEALTH_MAIL_WAITING_MINUTES", 30)

    # The dashboard's figures are kept per worker until a recorded change (a case event, an
    # audit entry, a snapshot, a new case, action or user) or this many seconds, whichever is
    # first (app/queries/freshness.py); 0: computed on every request.
    PAGE_CACHE_SECONDS = _int("PAGE_CACHE_SECONDS", 60)

    # Criteria (docs/rules.md#criteria): thresholds are configuration.
    CRITERIA_MIN_MEMBERS = _int("CRITERIA_MIN_MEMBERS", 8)
    # Residents must be strictly more than this share of the counted members ("1/2": over half).
    CRITERIA_RESIDENT_SHARE = os.environ.get("CRITERIA_RESIDENT_SHARE", "1/2")

    # Largest request body, in bytes: room for a web import of a 150,000-row annual-reviews
    # file (about 60 bytes a row, 9 MB) with margin; a larger body gets the 413 page unread.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 32 * 1024 * 1024)

    # Security
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14
    # A session without "keep me signed in" ends on the server after this many hours.
    SESSION_HOURS = _int("SESSION_HOURS", 12)
    WTF_CSRF_TIME_LIMIT = None
    # Sign-in counts live in the database unless this names a Redis server (redis://host:port).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or None
    RATELIMIT_HEADERS_ENABLED = True
    # Sign-in attempts checked per window (Flask-Limiter syntax): per account and address, per
    # address, and per account from all addresses (higher, so a stranger can't lock it alone).
    SIGN_IN_LIMIT_PER_EMAIL = os.environ.get("SIGN_IN_LIMIT_PER_EMAIL", "5 per 15 minutes")
    SIGN_IN_LIMIT_PER_ADDRESS = os.environ.get("SIGN_IN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    SIGN_IN_LIMIT_PER_ACCOUNT = os.environ.get("SIGN_IN_LIMIT_PER_ACCOUNT", "50 per hour")
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: trust
    # none, the headers are ignored).
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    # Two-factor sign-in (time-based codes from an authenticator app). When required, an
    # administrator without it is sent to set it up at sign-in and can use nothing else until
    # it is on. On by default, except in demo mode (whose shared demo logins have no phone).
    ADMIN_TWO_FACTOR_REQUIRED = _bool("ADMIN_TWO_FACTOR_REQUIRED", not _bool("DEMO_MODE"))
    # The name authenticator apps show beside the account.
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Big Local follow-up")
    # How long the code step may take after a correct password before signing in starts again.
    TWO_FACTOR_STEP_MINUTES = _int("TWO_FACTOR_STEP_MINUTES", 5)

    BOOTSTRAP_SERVE_LOCAL = True
    SCHEDULER_ENABLED = _bool("SCHEDULER_ENABLED")
    DEMO_MODE = _bool("DEMO_MODE")


class DevelopmentConfig(Config):
    DEBUG = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class TestConfig(Config):
    TESTING = True
    # Tests write rows directly (no events moving the data version): no dashboard cache, but
    # tests/queries/test_freshness.py turns it on.
    PAGE_CACHE_SECONDS = 0
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True
    MAIL_SERVER = None
    SCHEDULER_ENABLED = False
    SERVER_NAME = None
    # Tests sign administrators in without a code; the two-factor tests turn this on.
    ADMIN_TWO_FACTOR_REQUIRED = False
