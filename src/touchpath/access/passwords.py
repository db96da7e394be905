"""Passwords: argon2id hashes (argon2-cffi with its defaults, RFC 9106's second choice), and
one-time passwords that are easy to type."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_LENGTH", "generate", "hash_password", "needs_rehash", "verify"]

MIN_LENGTH = 12
_hasher = PasswordHasher()  # stateless: its parameters only


def hash_password(password: str) -> str:
    """An argon2id hash with a fresh salt."""
    return _hasher.hash(password)


def verify(stored: str, password: str) -> bool:
    """Whether `password` matches the stored hash (constant time in the library)."""
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with older parameters than today's."""
    return _hasher.check_needs_rehash(stored)


def generate() -> str:
    """A one-time password: 20 characters of URL-safe base64 (120 bits)."""
    return secrets.token_urlsafe(15)
