"""MariaDB connection behaviour: a restart of the server costs waiting, not failed requests.

pool_pre_ping (config.engine_options) finds a pooled connection that died and opens a
new one; while the server restarts, opening one is refused. Instead of failing every
request that arrives in those seconds, opening a connection waits for the server, up to
DB_CONNECT_WAIT_SECONDS, and only then fails. What was in flight when the connection
broke fails once (or is replayed: core.transaction), and the boundary answers it 503.
"""

import logging
import time

from sqlalchemy import event

log = logging.getLogger("portal.database")

# The server is not there (yet): refused, gone during the handshake, shutting down,
# starting up.
UNREACHABLE = {2003, 2006, 2013, 1053, 1927}


def unreachable(exc: BaseException) -> bool:
    code = exc.args[0] if getattr(exc, "args", None) else None
    return code in UNREACHABLE


def configure_mariadb(engine, wait_seconds: float) -> None:
    """Open connections patiently: retry an unreachable server for `wait_seconds`."""

    @event.listens_for(engine, "do_connect")
    def _connect_waiting(dialect, _record, cargs, cparams):
        deadline = time.monotonic() + wait_seconds
        delay = 0.05
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as exc:
                left = deadline - time.monotonic()
                if not unreachable(exc) or left <= 0:
                    raise
                if delay == 0.05:
                    log.warning("database unreachable (%s); waiting up to %.1f s", exc, left)
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.5)
