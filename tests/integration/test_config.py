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
