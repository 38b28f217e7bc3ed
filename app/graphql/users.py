from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

import strawberry

from app import models
from app.errors import BadUserInput, Forbidden
from app.graphql.context import Context, Info, SessionCookie
from app.graphql.permissions import ForAdmins, ForApiKey, ForUsers
from app.graphql.preferences import QuietHours
from app.services import quiet_hours
from app.services import users as service


@strawberry.type
class User:
    id: strawberry.ID
    external_id: str
    email: str | None
    phone: str | None
    name: str | None
    role: models.Role
    locale: str | None
    timezone: str | None

    @strawberry.field(description="Null until the user sets them.")
    async def quiet_hours(self) -> QuietHours | None:
        stored = await quiet_hours.get(UUID(self.id))
        return None if stored is None else QuietHours.from_model(stored, self.timezone)

    @classmethod
    def from_model(cls, user: models.User) -> Self:
        return cls(
            id=strawberry.ID(str(user.id)),
            external_id=user.external_id,
            email=user.email,
            phone=user.phone,
            name=user.name,
            role=user.role,
            locale=user.locale,
            timezone=user.timezone,
        )


@strawberry.type
class UserToken:
    token: str
    expires_at: datetime


@strawberry.input
class UpsertUserInput:
    external_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    role: models.Role | None = None
    locale: str | None = None
    timezone: str | None = None


@strawberry.type
class UserQuery:
    @strawberry.field(permission_classes=[ForUsers], description="The user the token belongs to.")
    async def viewer(self, info: Info) -> User:
        viewer = info.context.user
        return User.from_model(
            await service.get_user(tenant_id=viewer.tenant_id, user_id=viewer.user_id)
        )


def cookie_to_set(context: Context) -> SessionCookie:
    if context.settings.session_cookie is None:
        raise BadUserInput("BELFRY_SESSION_COOKIE is not set on this server", field="setCookie")
    cookie = context.session_cookie
    if cookie is None:
        raise BadUserInput(
            "A cookie is set over HTTP only, not over a websocket", field="setCookie"
        )
    if not cookie.from_allowed_origin():
        raise Forbidden("setCookie needs a request from an allowed origin (BELFRY_ALLOWED_ORIGINS)")
    return cookie


@strawberry.type
class UserMutation:
    @strawberry.mutation(
        permission_classes=[ForApiKey],
        description="Create or update a user by externalId; omitted fields stay unchanged.",
    )
    async def upsert_user(self, info: Info, input: UpsertUserInput) -> User:
        fields = service.UserFields(
            email=input.email,
            phone=input.phone,
            name=input.name,
            role=input.role,
            locale=input.locale,
            timezone=input.timezone,
        )
        user = await service.upsert_user(
            tenant_id=info.context.api_key.tenant_id, external_id=input.external_id, fields=fields
        )
        return User.from_model(user)

    @strawberry.mutation(
        permission_classes=[ForApiKey], description="Mint a token for one user's browser."
    )
    async def issue_user_token(
        self,
        info: Info,
        external_id: str,
        ttl_seconds: int | None = None,
        set_cookie: Annotated[
            bool,
            strawberry.argument(
                description="Also set the session cookie (BELFRY_SESSION_COOKIE), for a "
                "caller on an allowed origin: HttpOnly, SameSite=Lax, expiring with the token."
            ),
        ] = False,
    ) -> UserToken:
        context = info.context
        settings = context.settings
        cookie = cookie_to_set(context) if set_cookie else None
        issued = await service.issue_user_token(
            tenant_id=context.api_key.tenant_id,
            external_id=external_id,
            ttl_seconds=settings.user_token_default_ttl if ttl_seconds is None else ttl_seconds,
            max_ttl_seconds=settings.user_token_max_ttl,
            box=settings.secret_box,
        )
        if cookie is not None:
            cookie.set(issued.token, issued.expires_at)
        return UserToken(token=issued.token, expires_at=issued.expires_at)

    @strawberry.mutation(
        permission_classes=[ForAdmins],
        description=(
            "Erase a user and everything Belfry holds about them (a GDPR erasure request); "
            "false when there was no such user. Tokens issued before it stop working."
        ),
    )
    async def erase_user(self, info: Info, external_id: str) -> bool:
        return await service.erase_user(
            tenant_id=info.context.tenant_id,
            external_id=external_id,
            box=info.context.settings.secret_box,
        )
