"""Encryption at rest for channel secrets (SMTP passwords, bot tokens, signing secrets) and
tenants' token-signing secrets.

Fernet (AES + HMAC) under every key of BELFRY_SECRET_KEY, newest first: a secret is sealed
with the first key and opened with any, so a new key can be put in front of the old ones,
`belfry rotate-secrets` run, and the old key then dropped. Each Fernet key is derived from
its setting with HKDF."""

import base64
import functools
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v2:"
# Sealed before keys could rotate: one key, derived by a bare SHA-256. Still read, and
# rewritten by `belfry rotate-secrets`.
LEGACY_PREFIX = "enc:v1:"
# Opened values kept per box, by their sealed text: tenants' signing secrets are opened on
# every request. The sealed text is read from the database each time, so a secret changed
# anywhere is looked up anew, never answered from here.
OPENED_KEPT = 4096


class SecretUnreadable(ValueError):
    """Sealed under none of the keys this process has (or not sealed at all)."""

    def __init__(self) -> None:
        super().__init__("sealed with a key that BELFRY_SECRET_KEY no longer holds")


def is_sealed(stored: str) -> bool:
    """Sealed by a SecretBox, rather than a value stored in clear before sealing existed."""
    return stored.startswith((PREFIX, LEGACY_PREFIX))


def _derived(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"belfry channel secrets"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _legacy(secret_key: str) -> Fernet:
    key = hashlib.sha256(f"belfry-channel-secrets:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class SecretBox:
    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("BELFRY_SECRET_KEY holds no key")
        self._fernet = MultiFernet([_derived(k) for k in secret_keys])
        self._newest = _derived(secret_keys[0])
        self._legacy = MultiFernet([_legacy(k) for k in secret_keys])
        self._opened: dict[str, str] = {}

    def seal(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        plain = self._opened.get(sealed)
        if plain is None:
            plain = self._decrypt(sealed)
            if len(self._opened) >= OPENED_KEPT:
                self._opened.clear()
            self._opened[sealed] = plain
        return plain

    def open_or_plain(self, stored: str) -> str:
        """A value that may have been stored in clear, before sealing existed (tenants'
        signing secrets): such a value is itself."""
        return self.open(stored) if is_sealed(stored) else stored

    def sealed(self, stored: str) -> str:
        """A value that may have been stored in clear, sealed: as it is if it already is."""
        return stored if is_sealed(stored) else self.seal(stored)

    def _decrypt(self, sealed: str) -> str:
        fernet, token = self._parse(sealed)
        try:
            return fernet.decrypt(token).decode()
        except InvalidToken:
            raise SecretUnreadable() from None

    def is_current(self, sealed: str) -> bool:
        """Sealed with the newest key in the current format: nothing to rotate."""
        if not sealed.startswith(PREFIX):
            return False
        try:
            self._newest.decrypt(sealed.removeprefix(PREFIX).encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, sealed: str) -> str:
        """The same secret, sealed with the newest key."""
        return self.seal(self.open(sealed))

    def _parse(self, sealed: str) -> tuple[MultiFernet, bytes]:
        if sealed.startswith(PREFIX):
            return self._fernet, sealed.removeprefix(PREFIX).encode()
        if sealed.startswith(LEGACY_PREFIX):
            return self._legacy, sealed.removeprefix(LEGACY_PREFIX).encode()
        raise SecretUnreadable()


@functools.cache
def box_for(secret_keys: tuple[str, ...]) -> SecretBox:
    return SecretBox(secret_keys)
