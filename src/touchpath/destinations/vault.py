"""Secrets at rest: webhook signing secrets, SMTP passwords and provider keys are stored encrypted
with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) and never returned by the API.

The key comes from `TOUCHPATH_DESTINATIONS_KEY` (a Fernet key, e.g. from a secret manager), or
from the file `TOUCHPATH_DESTINATIONS_KEY_FILE` (default: `<store>.key` next to the store). When
neither exists the file is generated (mode 0600) and a warning says where: back it up with the
store, since without it the stored secrets cannot be read and must be entered again.

>>> from pathlib import Path; import tempfile
>>> v = Vault.from_key(Fernet.generate_key().decode())
>>> v.decrypt(v.encrypt({"secret": "whsec_abc"}))
{'secret': 'whsec_abc'}
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from touchpath.errors import BadRequest
from touchpath.settings import Settings

__all__ = ["Fernet", "Vault", "key_path"]

log = logging.getLogger(__name__)


def key_path(settings: Settings) -> Path:
    """Where the key file is (whether or not it exists yet)."""
    if settings.destinations_key_file is not None:
        return settings.destinations_key_file
    return settings.db.with_name(settings.db.name + ".key")


class Vault:
    """Encrypts and decrypts JSON objects of secrets."""

    def __init__(self, fernet: Fernet, key: bytes) -> None:
        self._fernet = fernet
        self.key = key
        """The raw key; other signing keys (tracking links) are derived from it."""

    @classmethod
    def from_key(cls, key: str) -> Vault:
        try:
            return cls(Fernet(key.encode()), key.encode())
        except (ValueError, TypeError) as exc:
            raise BadRequest(
                "TOUCHPATH_DESTINATIONS_KEY: not a Fernet key (32 url-safe base64 bytes)"
            ) from exc

    @classmethod
    def open(cls, settings: Settings) -> Vault:
        """The vault of a store: the key from settings, its file, or a new file."""
        if settings.destinations_key:
            return cls.from_key(settings.destinations_key)
        path = key_path(settings)
        if path.exists():
            return cls.from_key(path.read_text().strip())
        key = Fernet.generate_key().decode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        log.warning(
            "generated the destinations' secret key in %s: back it up with the store "
            "(without it, stored destination secrets cannot be read)",
            path,
        )
        return cls.from_key(key)

    def encrypt(self, secrets: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(secrets).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise BadRequest(
                "destination secrets: cannot be decrypted with this key "
                "(TOUCHPATH_DESTINATIONS_KEY or its file changed?)"
            ) from exc
        assert isinstance(value, dict)
        return value
