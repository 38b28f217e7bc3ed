"""Who may call what. Each root field declares its access where it is defined, with one of
the permission classes below (`permission_classes=[ForAdmins]`); the access levels, and the
errors a caller without one gets, are defined here only."""

from enum import Flag, auto
from typing import Any, ClassVar

from graphql import OperationType
from strawberry.permission import BasePermission

from app.auth import ApiKeyPrincipal, Principal, UserPrincipal
from app.errors import Forbidden
from app.graphql.context import Info
from app.models import Role


class Access(Flag):
    API_KEY = auto()
    OWNER = auto()
    ADMIN = auto()
    MEMBER = auto()


USER = Access.OWNER | Access.ADMIN | Access.MEMBER  # any user token, acting for itself
ADMINS = Access.API_KEY | Access.OWNER | Access.ADMIN  # the tenant's administrators
OWNERS = Access.API_KEY | Access.OWNER  # what an admin may not do
TENANT = Access.API_KEY | USER  # anyone of the tenant

ROLE_ACCESS = {Role.OWNER: Access.OWNER, Role.ADMIN: Access.ADMIN, Role.MEMBER: Access.MEMBER}


def access_of(principal: Principal) -> Access:
    if isinstance(principal, ApiKeyPrincipal):
        return Access.API_KEY
    assert isinstance(principal, UserPrincipal)
    return ROLE_ACCESS[principal.role]


def describe(access: Access) -> str:
    names = {
        Access.API_KEY: "a tenant API key",
        Access.OWNER: "an OWNER",
        Access.ADMIN: "an ADMIN",
        Access.MEMBER: "a MEMBER",
    }
    return " or ".join(name for flag, name in names.items() if flag in access)


class Allowed(BasePermission):
    """Raises UNAUTHENTICATED without credentials and FORBIDDEN without the access."""

    access: ClassVar[Access]

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.require_principal()
        if not access_of(principal) & self.access:
            raise Forbidden(f"{info.field_name} needs {describe(self.access)}")
        if info.context.by_cookie and info.operation.operation is OperationType.MUTATION:
            check_cookie_origin(info)
        return True


class ForApiKey(Allowed):
    """The tenant's servers: producing, and minting users' tokens."""

    access = Access.API_KEY


class ForAdmins(Allowed):
    """The tenant's administrators: the API key, owners and admins."""

    access = ADMINS


class ForOwners(Allowed):
    """What could sign in as anyone of the tenant: the API key and owners."""

    access = OWNERS


class ForTenant(Allowed):
    """Anyone of the tenant, reading what it has set up (a user sees their own part)."""

    access = TENANT


class ForUsers(Allowed):
    """Any user token, acting for itself: the viewer's own inbox and choices."""

    access = USER


def check_cookie_origin(info: Info) -> None:
    """A change made with the session cookie comes from a page the tenant trusts (CSRF)."""
    cookie = info.context.session_cookie
    if cookie is None or not cookie.from_allowed_origin():
        raise Forbidden(
            "A mutation signed in by the session cookie must come from an allowed origin "
            "(BELFRY_ALLOWED_ORIGINS) or the API's own; send the token in Authorization instead"
        )
