"""A bare portal for unit tests that need an application but no database: formats,
translations and documents drawn from records they are given."""

import pytest

from app import create_app


@pytest.fixture(scope="session")
def bare_app():
    """Not named `app`: the suite's `app` is the demo database, restored after each test."""
    return create_app(
        {
            "PORTAL_ENV": "testing",
            "DATABASE_URL": "sqlite://",
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": None,
        }
    )


@pytest.fixture
def in_app(bare_app):
    with bare_app.app_context():
        yield


@pytest.fixture
def in_request(bare_app):
    with bare_app.test_request_context():
        yield
