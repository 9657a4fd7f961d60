"""Secrets kept sealed at rest: encrypted with a key derived from SECRET_KEY per purpose.

A second factor's TOTP secret and a webhook's signing secret must be readable by the
portal (to check a code, to sign a payload), so they cannot be hashed; each purpose gets
its own Fernet key (HKDF over SECRET_KEY), and a database copied without the key holds
nothing usable.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet(purpose: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"trade portal: {purpose}".encode()
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, purpose: str) -> str:
    return _fernet(purpose).encrypt(secret.encode()).decode()


def unseal(sealed: str | None, purpose: str) -> str | None:
    """The secret, or None (none kept, or sealed under another SECRET_KEY)."""
    if not sealed:
        return None
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
