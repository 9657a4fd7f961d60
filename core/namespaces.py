"""The portal's name on a shared Redis: the prefix of its live bus channel and job queue.

Test runs, pytest-xdist workers and portals sharing one Redis are kept apart by it: a
portal only cares for events and jobs about its own rows.
"""

from pathlib import Path

from sqlalchemy.engine import make_url


def namespace(config) -> str:
    """REDIS_NAMESPACE, else the database's name (a SQLite file: its absolute path)."""
    if config.get("REDIS_NAMESPACE"):
        return config["REDIS_NAMESPACE"]
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database).resolve()) if url.database else "sqlite-memory"
    return url.database or "portal"
