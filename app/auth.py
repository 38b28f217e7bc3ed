"""Who is calling: a tenant API key (server side) or a user token (one user of one tenant)."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict
from uuid import UUID

import jwt

from app import clock
from app.crypto import SecretBox, SecretUnreadable
from app.db import is_storable, select_row
from app.errors import BelfryError, Unauthenticated
from app.models import ApiKey, Role, Tenant, User, UserErasure

logger = logging.getLogger("belfry.auth")

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
    SIGNING_SECRET_ROTATED = "signing_secret_rotated"  # its grace period ended


# Long past: a signing secret retired with no grace left.
RETIRED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SigningState:
    """Which of a tenant's signing secrets verify tokens: the current one (number `version`:
    1, then one more each rotation) and, until `previous_until` (app.clock time; None before
    any rotation), the one it replaced."""

    version: int
    previous_until: datetime | None

    def until(self, signed_with: int) -> datetime | None:
        """Until when tokens signed with that version verify: None while it is the current
        one, RETIRED once it is older than the previous one."""
        if signed_with >= self.version:
            return None
        if signed_with == self.version - 1 and self.previous_until is not None:
            return self.previous_until
        return RETIRED


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """A tenant's secrets, opened."""

    state: SigningState
    current: str
    previous: str | None
    erasure_key: str


class SecretsUnreadable(BelfryError):
    def __init__(self, tenant_id: UUID) -> None:
        super().__init__(
            f"The signing secrets of tenant {tenant_id} are sealed with a key that "
            "BELFRY_SECRET_KEY no longer holds: add that key back"
        )


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
    expires_at: datetime  # the token's `exp`
    signed_with: int  # the version of the tenant's signing secret that verified the token
    # When that secret stops verifying, once it has been rotated (app.clock time).
    secret_until: datetime | None = None

    @property
    def credential(self) -> Credential:
        return Credential(CredentialKind.USER, self.tenant_id, self.user_id)

    def ending(self) -> tuple[datetime, CredentialGone]:
        """When the principal stops working (app.clock time), and why."""
        if self.secret_until is not None and self.secret_until < self.expires_at:
            return self.secret_until, CredentialGone.SIGNING_SECRET_ROTATED
        return self.expires_at, CredentialGone.TOKEN_EXPIRED

    def signed_under(self, state: SigningState) -> "UserPrincipal":
        """The principal as the tenant's signing secrets now stand: itself unless its
        secret was rotated since (or its grace shortened)."""
        until = state.until(self.signed_with)
        if until is None or (self.secret_until is not None and self.secret_until <= until):
            return self
        return replace(self, secret_until=until)


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


def new_erasure_key() -> str:
    return secrets.token_urlsafe(32)


def mint_user_token(
    *, tenant_id: UUID, external_id: str, signing_secret: str, ttl: timedelta
) -> tuple[str, datetime]:
    issued_at = clock.now()
    expires_at = issued_at.replace(microsecond=0) + ttl
    # A float `iat`: a token minted in the same second as an erase, but after it, still works.
    claims = {
        "sub": external_id,
        "tid": str(tenant_id),
        "exp": expires_at,
        "iat": issued_at.timestamp(),
    }
    return jwt.encode(claims, signing_secret, algorithm=JWT_ALGORITHM), expires_at


def subject_hash(external_id: str, erasure_key: str) -> str:
    """How an erased user is remembered: never the external id in clear, and keyed by the
    tenant's erasure key, so a guessable id (an email, a number) cannot be found by hashing
    guesses. That key never changes, so an erasure outlives rotations of the signing secret:
    tokens the host backend mints with the new secret are checked against it too."""
    return hmac.new(erasure_key.encode(), external_id.encode(), hashlib.sha256).hexdigest()


class _SigningColumns(TypedDict):
    signing_secret: str
    signing_secret_version: int
    previous_signing_secret: str | None
    previous_signing_secret_until: datetime | None
    erasure_key: str


class _KeyColumns(TypedDict):
    id: UUID
    tenant_id: UUID
    last_used_at: datetime | None


async def signing_keys(box: SecretBox, tenant_id: UUID) -> SigningKeys | None:
    """The tenant's secrets, read anew every time (a rotation may come from any process) and
    opened (the box keeps what it opened); None when there is no such tenant."""
    row = await select_row(Tenant, _SigningColumns, {"id": tenant_id})
    if row is None:
        return None
    previous = row["previous_signing_secret"]
    try:
        return SigningKeys(
            state=SigningState(row["signing_secret_version"], row["previous_signing_secret_until"]),
            current=box.open_or_plain(row["signing_secret"]),
            previous=None if previous is None else box.open_or_plain(previous),
            erasure_key=box.open_or_plain(row["erasure_key"]),
        )
    except SecretUnreadable:
        raise SecretsUnreadable(tenant_id) from None


async def authenticate(authorization: str | None, *, box: SecretBox) -> Principal | None:
    """Resolve an `Authorization` header value; None when absent, Unauthenticated when bad.
    `box` opens the tenants' signing secrets."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    if token.startswith(API_KEY_PREFIX):
        return await _authenticate_api_key(token)
    return await _authenticate_user_token(token, box)


async def sign_in(
    authorization: str | None, cookie: str | None = None, *, box: SecretBox
) -> Principal | None:
    """The caller, by its `Authorization` value or else by the session cookie's token
    (app.http.session_cookie), which is a user token, never an API key."""
    if authorization is not None or not cookie:
        return await authenticate(authorization, box=box)
    if cookie.startswith(API_KEY_PREFIX):
        raise Unauthenticated("An API key is never read from a cookie")
    return await _authenticate_user_token(cookie, box)


async def _authenticate_api_key(token: str) -> ApiKeyPrincipal:
    key = await select_row(
        ApiKey,
        _KeyColumns,
        {"key_hash": hash_api_key(token)},
        also="revoked_at IS NULL",
    )
    if key is None:
        raise Unauthenticated("Invalid or revoked API key")
    now = clock.now()
    if key["last_used_at"] is None or now - key["last_used_at"] > LAST_USED_RESOLUTION:
        await ApiKey.filter(id=key["id"]).update(last_used_at=now)
    return ApiKeyPrincipal(tenant_id=key["tenant_id"], key_id=key["id"])


async def _authenticate_user_token(token: str, box: SecretBox) -> UserPrincipal:
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        tenant_id = UUID(str(unverified["tid"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise Unauthenticated("Malformed user token") from exc
    try:
        keys = await signing_keys(box, tenant_id)
    except SecretsUnreadable as error:
        logger.error("%s", error)
        raise Unauthenticated(f"{error} (a server configuration error)") from None
    if keys is None:
        raise Unauthenticated("Unknown tenant in user token")
    claims, signed_with = _verified(token, keys)
    external_id = str(claims["sub"])
    if not external_id or len(external_id) > 200 or not is_storable(external_id):
        raise Unauthenticated("Invalid subject in user token")
    # Before the lookup below, which would otherwise re-create an erased user.
    await _refuse_if_erased(tenant_id, keys.erasure_key, external_id, claims.get("iat"))
    # Tokens minted by the host backend may name a user Belfry has not seen yet.
    user = await User.get_or_none(tenant_id=tenant_id, external_id=external_id)
    if user is None:
        user, _ = await User.get_or_create(tenant_id=tenant_id, external_id=external_id)
    principal = UserPrincipal(
        tenant_id=tenant_id,
        user_id=user.id,
        external_id=external_id,
        role=user.role,  # from the record, never from the token
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        signed_with=signed_with,
    )
    return principal.signed_under(keys.state)


def _verified(token: str, keys: SigningKeys) -> tuple[dict[str, Any], int]:
    """The token's claims, and the version of the secret that signed it: the current one, or
    the one it replaced while that one's grace lasts."""
    version = keys.state.version
    try:
        return _decoded(token, keys.current), version
    except jwt.InvalidSignatureError:
        if keys.previous is None:
            raise Unauthenticated("Invalid user token") from None
    try:
        claims = _decoded(token, keys.previous)
    except jwt.InvalidSignatureError:
        raise Unauthenticated("Invalid user token") from None
    until = keys.state.until(version - 1)
    if until is not None and until <= clock.now():
        raise Unauthenticated(
            "User token is signed with the tenant's previous signing secret, whose grace "
            "period has ended"
        )
    return claims, version - 1


def _decoded(token: str, secret: str) -> dict[str, Any]:
    """Raises InvalidSignatureError for a token that another secret may have signed."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            # PyJWT reads real time; the times are checked below, by app.clock.
            options={
                "require": ["sub", "tid", "exp"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise
    except jwt.PyJWTError as exc:
        raise Unauthenticated("Invalid user token") from exc
    _check_times(claims, clock.now().timestamp())
    return claims


def _check_times(claims: dict[str, Any], now: float) -> None:
    """PyJWT's checks of `exp`, `iat` and `nbf`, at `now`: each a number of seconds, the
    token expired at `exp` and not valid before `iat` or `nbf`."""
    times = {name: claims[name] for name in ("exp", "iat", "nbf") if name in claims}
    try:
        seconds = {name: int(value) for name, value in times.items()}
    except (ValueError, TypeError, OverflowError):
        raise Unauthenticated("Invalid user token") from None
    if seconds["exp"] <= now:
        raise Unauthenticated("User token has expired")
    if any(seconds.get(name, 0) > now for name in ("iat", "nbf")):
        raise Unauthenticated("Invalid user token")


async def _refuse_if_erased(
    tenant_id: UUID, erasure_key: str, external_id: str, issued_at: object
) -> None:
    """A token issued before its subject was last erased is dead, even once a later publish
    has made a new user with that external id; so is one that does not say when it was
    issued."""
    erasure = await UserErasure.get_or_none(
        tenant_id=tenant_id, subject_hash=subject_hash(external_id, erasure_key)
    )
    if erasure is None:
        return
    if (
        isinstance(issued_at, bool)
        or not isinstance(issued_at, int | float)
        or erasure.erased_at.timestamp() >= issued_at
    ):
        raise Unauthenticated("User token was issued before the user was erased")
