"""Encryption at rest for channel secrets (SMTP passwords, bot tokens, signing secrets).

Fernet (AES + HMAC) keyed from BELFRY_SECRET_KEY: rotating that key makes stored secrets
unreadable, so set it once per deployment."""

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "enc:v1:"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = hashlib.sha256(f"belfry-channel-secrets:{secret_key}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise ValueError("not a sealed secret")
        try:
            return self._fernet.decrypt(sealed.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as error:
            raise ValueError("secret cannot be decrypted with this BELFRY_SECRET_KEY") from error


@functools.cache
def box_for(secret_key: str) -> SecretBox:
    return SecretBox(secret_key)
