"""Configuration from the environment."""

import pytest

from app import create_app
from config import ConfigError, build_config, engine_options


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        build_config(tmp_path)


def test_development_makes_and_keeps_its_own_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    first = build_config(tmp_path)["SECRET_KEY"]
    assert len(first) > 40
    assert build_config(tmp_path)["SECRET_KEY"] == first


def test_unknown_environment_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "staging-ish")
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        build_config(tmp_path)


def test_database_defaults_to_sqlite_under_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    config = build_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.db'}"


def test_mariadb_gets_liveness_checks_and_timeouts():
    options = engine_options("mysql+pymysql://u:p@db/portal")
    assert options["pool_pre_ping"] is True
    assert options["pool_recycle"] > 0
    args = options["connect_args"]
    assert args["connect_timeout"] and args["read_timeout"] and args["write_timeout"]


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("PORTAL_URL", "https://portal.example.com")
    config = build_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_redis_url_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert build_config(tmp_path)["REDIS_URL"] == "redis://127.0.0.1:6379/0"


def test_factory_is_found_by_flask(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    application = create_app({"PORTAL_ENV": "testing", "SECRET_KEY": "k"})
    rules = {r.rule for r in application.url_map.iter_rules()}
    assert {"/login", "/logout", "/shop/", "/office/", "/office/products"} <= rules


def test_a_production_portal_starts_and_bounds_admission_below_its_pool(tmp_path, monkeypatch):
    """Production answers only PORTAL_URL's host: the refusal pages rendered at start-up
    are built for it (a request to any other host would find no URL adapter)."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("PORTAL_URL", "https://portal.example.com")
    monkeypatch.setenv("DB_POOL_SIZE", "6")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "4")
    monkeypatch.delenv("ADMISSION_LIMIT", raising=False)
    app = create_app({"DATABASE_URL": "mysql+pymysql://u:p@127.0.0.1:1/none"})
    gate = app.extensions["admission"]
    assert gate.limit == 5  # half of a 10-connection pool: the rest serves the sockets
    assert b'href="/static/css/portal.css"' in gate.refusals["en"][0]
    monkeypatch.setenv("ADMISSION_LIMIT", "0")
    assert "admission" not in create_app({"DATABASE_URL": "sqlite://"}).extensions


def test_each_mariadb_driver_gets_its_own_words_for_a_plain_connection(monkeypatch):
    monkeypatch.delenv("DB_SSL_CA", raising=False)
    assert engine_options("mysql+pymysql://u:p@db/portal")["connect_args"]["ssl_disabled"]
    c_driver = engine_options("mysql+mysqldb://u:p@db/portal")["connect_args"]
    assert c_driver["ssl_mode"] == "DISABLED" and "ssl_disabled" not in c_driver
    monkeypatch.setenv("DB_SSL_CA", "/etc/ssl/ca.pem")
    assert engine_options("mysql+mysqldb://u:p@db/portal")["connect_args"]["ssl"] == {
        "ca": "/etc/ssl/ca.pem"
    }
