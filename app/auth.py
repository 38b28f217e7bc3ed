"""Who is calling: a tenant API key (server side) or a user token (one user of one tenant)."""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import jwt

from app.db import select_row
from app.errors import Unauthenticated
from app.models import ApiKey, Role, Tenant, User, UserErasure
from app.services.validation import is_storable

API_KEY_PREFIX = "bfk_"
JWT_ALGORITHM = "HS256"
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class CredentialKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Credential:
    """What a principal stands on, as long-lived connections are held by: a user (of any of
    their tokens) or one API key."""

    kind: CredentialKind
    tenant_id: UUID
    id: UUID  # the user's or the API key's


class CredentialGone(StrEnum):
    """Why a credential stopped working while a connection held it."""

    USER_ERASED = "user_erased"
    API_KEY_REVOKED = "api_key_revoked"
    TOKEN_EXPIRED = "token_expired"


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    tenant_id: UUID
    key_id: UUID

    @property
    def credential(self) -> Credential:
        return Credential(CredentialKind.API_KEY, self.tenant_id, self.key_id)


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    tenant_id: UUID
    user_id: UUID
    external_id: str
    role: Role
    expires_at: datetime

    @property
    def credential(self) -> Credential:
        return Credential(CredentialKind.USER, self.tenant_id, self.user_id)


Principal = ApiKeyPrincipal | UserPrincipal


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random, so a fast hash is enough and keeps lookup one indexed query.
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """Returns (plain key, shown prefix)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:12]


def new_signing_secret() -> str:
    return secrets.token_urlsafe(48)


def mint_user_token(
    *, tenant_id: UUID, external_id: str, signing_secret: str, ttl: timedelta
) -> tuple[str, datetime]:
    expires_at = datetime.now(UTC).replace(microsecond=0) + ttl
    # A float `iat`: a token minted in the same second as an erase, but after it, still works.
    claims = {"sub": external_id, "tid": str(tenant_id), "exp": expires_at, "iat": time.time()}
    return jwt.encode(claims, signing_secret, algorithm=JWT_ALGORITHM), expires_at


def subject_hash(external_id: str, signing_secret: str) -> str:
    """How an erased user is remembered: never the external id in clear, and keyed by the
    tenant's secret, so a guessable id (an email, a number) cannot be found by hashing
    guesses. A rotated secret loses the erasures, and with them nothing: tokens signed with
    the old secret no longer verify."""
    return hmac.new(signing_secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


async def authenticate(authorization: str | None) -> Principal | None:
    """Resolve an `Authorization` header value; None when absent, Unauthenticated when bad."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    if token.startswith(API_KEY_PREFIX):
        return await _authenticate_api_key(token)
    return await _authenticate_user_token(token)


async def sign_in(authorization: str | None, cookie: str | None = None) -> Principal | None:
    """The caller, by its `Authorization` value or else by the session cookie's token
    (app.session_cookie), which is a user token, never an API key."""
    if authorization is not None or not cookie:
        return await authenticate(authorization)
    if cookie.startswith(API_KEY_PREFIX):
        raise Unauthenticated("An API key is never read from a cookie")
    return await _authenticate_user_token(cookie)


async def _authenticate_api_key(token: str) -> ApiKeyPrincipal:
    key = await select_row(
        ApiKey,
        ["id", "tenant_id", "last_used_at"],
        {"key_hash": hash_api_key(token)},
        also="revoked_at IS NULL",
    )
    if key is None:
        raise Unauthenticated("Invalid or revoked API key")
    now = datetime.now(UTC)
    if key["last_used_at"] is None or now - key["last_used_at"] > LAST_USED_RESOLUTION:
        await ApiKey.filter(id=key["id"]).update(last_used_at=now)
    return ApiKeyPrincipal(tenant_id=key["tenant_id"], key_id=key["id"])


async def _authenticate_user_token(token: str) -> UserPrincipal:
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        tenant_id = UUID(str(unverified["tid"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise Unauthenticated("Malformed user token") from exc
    tenant = await Tenant.get_or_none(id=tenant_id)
    if tenant is None:
        raise Unauthenticated("Unknown tenant in user token")
    try:
        claims = jwt.decode(
            token,
            tenant.signing_secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "tid", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("User token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("Invalid user token") from exc
    external_id = str(claims["sub"])
    if not external_id or len(external_id) > 200 or not is_storable(external_id):
        raise Unauthenticated("Invalid subject in user token")
    # Before the lookup below, which would otherwise re-create an erased user.
    await _refuse_if_erased(tenant, external_id, claims.get("iat"))
    # Tokens minted by the host backend may name a user Belfry has not seen yet.
    user = await User.get_or_none(tenant_id=tenant_id, external_id=external_id)
    if user is None:
        user, _ = await User.get_or_create(tenant_id=tenant_id, external_id=external_id)
    return UserPrincipal(
        tenant_id=tenant_id,
        user_id=user.id,
        external_id=external_id,
        role=user.role,  # from the record, never from the token
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


async def _refuse_if_erased(tenant: Tenant, external_id: str, issued_at: object) -> None:
    """A token issued before its subject was last erased is dead, even once a later publish
    has made a new user with that external id; so is one that does not say when it was
    issued."""
    erasure = await UserErasure.get_or_none(
        tenant_id=tenant.id, subject_hash=subject_hash(external_id, tenant.signing_secret)
    )
    if erasure is None:
        return
    if (
        isinstance(issued_at, bool)
        or not isinstance(issued_at, int | float)
        or erasure.erased_at.timestamp() >= issued_at
    ):
        raise Unauthenticated("User token was issued before the user was erased")
