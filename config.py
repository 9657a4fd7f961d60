"""Configuration read from the environment (see README, "Configuration")."""

import atexit
import os
import secrets
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the portal can run with."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept under instance/, so development sessions survive restarts."""
    key_file = instance_path / "dev-secret-key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _upload_dir(env_name: str, instance_path: Path) -> str:
    """Where product photos live: UPLOAD_DIR, else instance/uploads; tests get a temp folder."""
    if os.environ.get("UPLOAD_DIR"):
        return os.environ["UPLOAD_DIR"]
    if env_name == "testing":
        # Test runs never write into (or read from) the developer's real uploads.
        folder = tempfile.mkdtemp(prefix="portal-uploads-")
        atexit.register(shutil.rmtree, folder, True)
        return folder
    return str(instance_path / "uploads")


def _no_tls(url: str) -> dict:
    """Each driver's own words for a plain connection (mysqlclient: `mysql+mysqldb://`)."""
    return {"ssl_mode": "DISABLED"} if url.startswith("mysql+mysqldb") else {"ssl_disabled": True}


def engine_options(url: str) -> dict:
    """Connection settings per backend: MariaDB gets liveness checks and timeouts."""
    if url.startswith("mysql"):
        return {
            "pool_pre_ping": True,
            "pool_recycle": 280,
            "pool_size": _int("DB_POOL_SIZE", 10),
            "max_overflow": _int("DB_MAX_OVERFLOW", 20),
            "pool_timeout": 10,
            "connect_args": {
                "connect_timeout": 10,
                "read_timeout": 30,
                "write_timeout": 30,
                "charset": "utf8mb4",
                # PyMySQL otherwise builds an SSL context (~40 ms) for every new connection
                # even when the server has no TLS; DB_SSL_CA turns verified TLS on.
                **(
                    {"ssl": {"ca": os.environ["DB_SSL_CA"]}}
                    if os.environ.get("DB_SSL_CA")
                    else _no_tls(url)
                ),
            },
            "isolation_level": "READ COMMITTED",
        }
    if url.startswith("sqlite"):
        # The threaded development server and the test live server share the
        # file from several threads; each connection serialises its own use.
        return {"connect_args": {"check_same_thread": False, "timeout": 15}}
    return {"pool_pre_ping": True}


def _admission_default(url: str) -> int:
    """Below the pool, so that an admitted request never waits for a connection: the rest
    of the pool serves the live sockets' handshakes and renders."""
    if url.startswith("mysql"):
        return max(1, min(16, (_int("DB_POOL_SIZE", 10) + _int("DB_MAX_OVERFLOW", 20)) // 2))
    return 16


def _public_address(production: bool, overrides: dict) -> tuple[str, list[str] | None]:
    """PORTAL_URL (required in production) and the hosts answered (TRUSTED_HOSTS, which in
    production defaults to PORTAL_URL's own; elsewhere every host is answered)."""
    raw = (overrides.pop("PORTAL_URL", None) or os.environ.get("PORTAL_URL") or "").strip()
    raw = raw.rstrip("/")
    if not raw:
        if production:
            raise ConfigError("PORTAL_URL must be set when PORTAL_ENV=production")
        raw = "http://127.0.0.1:5000"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"PORTAL_URL must be an http(s) address such as https://portal.example.com, got {raw!r}"
        )
    if production and parts.scheme != "https":
        raise ConfigError("PORTAL_URL must start with https:// when PORTAL_ENV=production")
    listed = overrides.pop("TRUSTED_HOSTS", None) or os.environ.get("TRUSTED_HOSTS") or ""
    hosts = [h.strip() for h in listed.split(",") if h.strip()]
    if not hosts and production:
        hosts = [parts.netloc]
    if hosts and parts.hostname not in {h.split(":")[0] for h in hosts}:
        # Links to itself (live fragments, mail) are built for PORTAL_URL's host.
        raise ConfigError(f"TRUSTED_HOSTS must include PORTAL_URL's host, {parts.hostname}")
    return raw, hosts or None


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """Everything Flask and the portal need, from the environment plus overrides."""
    overrides = dict(overrides or {})
    env_name = overrides.pop("PORTAL_ENV", None) or os.environ.get("PORTAL_ENV", "development")
    if env_name not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env_name!r}")

    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'portal.db'}"

    secret_key = overrides.pop("SECRET_KEY", None) or os.environ.get("SECRET_KEY")
    if not secret_key:
        if env_name == "production":
            raise ConfigError("SECRET_KEY must be set when PORTAL_ENV=production")
        secret_key = _dev_secret_key(instance_path)

    production = env_name == "production"
    portal_url, trusted_hosts = _public_address(production, overrides)
    proxy_hops = _int("PROXY_HOPS", 0)
    if not 0 <= proxy_hops <= 5:
        raise ConfigError(f"PROXY_HOPS must be from 0 to 5, got {proxy_hops}")
    config = {
        "PORTAL_ENV": env_name,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        # How long opening a database connection waits for an unreachable server (a
        # restart) before the request fails (core/db_mariadb.py).
        "DB_CONNECT_WAIT_SECONDS": _int("DB_CONNECT_WAIT_SECONDS", 10),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "TESTING": env_name == "testing",
        # Sessions: server-side records (core.sessions) enforce these lifetimes;
        # the cookie itself only carries an opaque token.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 60),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 12)),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        # OWASP's scrypt strength (N=2^15, r=8, p=3). The tests hash at a small N instead:
        # the same code path, and every sign-in of the suite no longer costs 0.3 s of CPU.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1" if env_name == "testing" else "scrypt:32768:8:3",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": True,
        "INVITATION_HOURS": _int("INVITATION_HOURS", 72),
        # Accounts: reset links, and where links that leave the site (mail) point.
        "PASSWORD_RESET_MINUTES": _int("PASSWORD_RESET_MINUTES", 60),
        "PORTAL_URL": portal_url,
        # Only these Host headers are answered (Flask's check); production: PORTAL_URL's.
        "TRUSTED_HOSTS": trusted_hosts,
        # How many reverse proxies in front may be believed about the client (ProxyFix).
        "PROXY_HOPS": proxy_hops,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "portal@localhost"),
        "CATALOG_PAGE_SIZE": 24,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "MAX_QUERY_LENGTH": 200,
        # Product photos: kept under UPLOAD_DIR (tests get a throwaway folder), checked by
        # decoding them; PHOTO_MAX_PIXELS guards against decompression bombs.
        "UPLOAD_DIR": overrides.get("UPLOAD_DIR") or _upload_dir(env_name, instance_path),
        "PHOTO_MAX_BYTES": _int("PHOTO_MAX_BYTES", 5 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _int("PHOTO_MAX_PIXELS", 40_000_000),
        # Conversations on quotes and orders (core.conversations): each attached file at
        # most ATTACHMENT_MAX_BYTES (PDF, DXF, STEP, PNG, JPEG, ZIP, checked by content),
        # at most ATTACHMENT_MAX_FILES a message. Mails about a message answer to
        # reply+<token>@MAIL_REPLY_DOMAIN (default: PORTAL_URL's host).
        "ATTACHMENT_MAX_BYTES": _int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024),
        "ATTACHMENT_MAX_FILES": _int("ATTACHMENT_MAX_FILES", 5),
        "MAIL_REPLY_DOMAIN": os.environ.get("MAIL_REPLY_DOMAIN") or None,
        # Live updates: pings drop dead peers, incoming messages are small watch lists,
        # and each socket re-checks its session this often even if an event is missed.
        "LIVE_PING_SECONDS": _int("LIVE_PING_SECONDS", 25),
        "LIVE_MAX_MESSAGE_BYTES": 16 * 1024,
        "LIVE_SESSION_RECHECK_SECONDS": _int("LIVE_SESSION_RECHECK_SECONDS", 30),
        # How often each process looks for promotions that started or ended.
        "LIVE_CLOCK_SECONDS": _int("LIVE_CLOCK_SECONDS", 10),
        # Bounds on what one client may cost: open sockets per session (per process), the
        # messages a socket's page may send a second (more are merged), and the resyncs
        # (every watched region rendered afresh) a session gets a minute after a burst of
        # WS_MAX_PER_SESSION.
        "WS_MAX_PER_SESSION": _int("WS_MAX_PER_SESSION", 20),
        "LIVE_MESSAGES_PER_SECOND": _int("LIVE_MESSAGES_PER_SECOND", 5),
        "LIVE_RESYNCS_PER_MINUTE": _int("LIVE_RESYNCS_PER_MINUTE", 30),
        # The Redis bus's channel is "<REDIS_NAMESPACE>:events"; without it, the
        # database's name (blueprints/live/bus.py), so portals sharing a Redis stay apart.
        "REDIS_NAMESPACE": os.environ.get("REDIS_NAMESPACE") or None,
        # CSV imports: the largest file and the most lines one upload may hold, and how
        # often a running import reports progress. Imports run as background jobs.
        "IMPORT_MAX_BYTES": _int("IMPORT_MAX_BYTES", 30 * 1024 * 1024),
        "IMPORT_MAX_LINES": _int("IMPORT_MAX_LINES", 200_000),
        "IMPORT_PROGRESS_LINES": _int("IMPORT_PROGRESS_LINES", 2_000),
        # Background jobs (core.jobs): Redis with REDIS_URL (`flask --app app worker`),
        # else JOB_THREADS threads of the web process. JOBS_INLINE (tests) runs each job
        # right after the commit, in the committing thread: a deterministic finish.
        "JOBS_INLINE": env_name == "testing",
        "JOB_THREADS": _int("JOB_THREADS", 2),
        # A running job's claim lasts this long and is renewed while it runs: a worker
        # that dies leaves its job to another this soon after.
        "JOB_LEASE_SECONDS": _int("JOB_LEASE_SECONDS", 60),
        # A failed try waits this long before the next, doubled each time up to the most.
        "JOB_BACKOFF_SECONDS": _int("JOB_BACKOFF_SECONDS", 30),
        "JOB_BACKOFF_MAX_SECONDS": _int("JOB_BACKOFF_MAX_SECONDS", 3600),
        # How often a worker looks for jobs whose hand-over to the queue was lost, and
        # when a handed-over job still waiting counts as lost (the queue's data gone).
        "JOB_SWEEP_SECONDS": _int("JOB_SWEEP_SECONDS", 30),
        "JOB_LOST_SECONDS": _int("JOB_LOST_SECONDS", 3600),
        # A worker silent this long is taken for dead: its fetched jobs go back to Redis.
        "JOB_WORKER_HEARTBEAT_SECONDS": _int("JOB_WORKER_HEARTBEAT_SECONDS", 60),
        # How long a stopping worker lets its running jobs finish.
        "JOB_STOP_SECONDS": _int("JOB_STOP_SECONDS", 60),
        # Finished jobs are kept this many days (failed ones until retried).
        "JOB_KEEP_DAYS": _int("JOB_KEEP_DAYS", 14),
        # Admission (blueprints/admission.py): requests served at once per process (0: no
        # bound), how many more may wait for a place and for how long, before a 503.
        "ADMISSION_LIMIT": _int("ADMISSION_LIMIT", _admission_default(database_url)),
        "ADMISSION_QUEUE": _int("ADMISSION_QUEUE", 200),
        "ADMISSION_WAIT_SECONDS": _int("ADMISSION_WAIT_SECONDS", 10),
        # The integration API (/api/v1): requests one token may make per window (429 with
        # Retry-After beyond), and how long an Idempotency-Key's first answer is kept.
        "API_RATE_LIMIT": _int("API_RATE_LIMIT", 120),
        "API_RATE_WINDOW_SECONDS": _int("API_RATE_WINDOW_SECONDS", 60),
        "API_IDEMPOTENCY_HOURS": _int("API_IDEMPOTENCY_HOURS", 24),
        # Webhooks (core.webhooks): each try waits this long for an answer; a delivery
        # that runs out of tries counts as failed, and after this many failed in a row
        # the endpoint is switched off and its owner told. Endpoints must be public HTTPS
        # addresses: WEBHOOK_ALLOW_PRIVATE lets them be on this host or its network
        # (tests' local receiver; never in production, where it opens the inside to
        # whoever may register one). WEBHOOK_CA_FILE: a CA bundle to trust instead of the
        # system's (a receiver with a private certificate authority).
        "WEBHOOK_TIMEOUT_SECONDS": _int("WEBHOOK_TIMEOUT_SECONDS", 10),
        "WEBHOOK_DISABLE_AFTER": _int("WEBHOOK_DISABLE_AFTER", 10),
        "WEBHOOK_ALLOW_PRIVATE": os.environ.get("WEBHOOK_ALLOW_PRIVATE", "") == "1",
        "WEBHOOK_CA_FILE": os.environ.get("WEBHOOK_CA_FILE") or None,
        # Quotes mailed to a contact without an account (core.quote_links): the link holds
        # this many days, unless used for a decision or revoked first.
        "QUOTE_LINK_DAYS": _int("QUOTE_LINK_DAYS", 14),
        # Replies by mail (`flask --app app mail-receive`, core.mail_receiver): where the
        # SMTP receiver listens. Put it behind the mail server that receives for
        # MAIL_REPLY_DOMAIN (or point that domain's MX at it); it relays nothing.
        "MAIL_RECEIVE_HOST": os.environ.get("MAIL_RECEIVE_HOST") or "127.0.0.1",
        "MAIL_RECEIVE_PORT": _int("MAIL_RECEIVE_PORT", 2525),
    }
    config.update(overrides)
    return config
