"""Who may call what: one table for every operation, checked by `Allowed` on each field."""

from enum import Flag, auto
from typing import Any

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

PERMISSIONS: dict[str, Access] = {
    # producing, from the tenant's servers
    "publishNotification": Access.API_KEY,
    "publishEvent": Access.API_KEY,
    "scheduledNotifications": Access.API_KEY,
    "cancelScheduledNotification": Access.API_KEY,
    "upsertUser": Access.API_KEY,
    "issueUserToken": Access.API_KEY,
    # administering the tenant
    "settings": ADMINS,
    "updateSettings": ADMINS,
    "apiKeys": ADMINS,
    "createApiKey": ADMINS,
    "revokeApiKey": ADMINS,
    "eraseUser": ADMINS,
    "recipients": ADMINS,
    "upsertEventCategory": ADMINS,
    "updateTenantPreference": ADMINS,
    "channels": ADMINS,
    "updateChannel": ADMINS,
    "testChannel": ADMINS,
    "retryDelivery": ADMINS,
    "deleteDelivery": ADMINS,
    "deleteDeliveries": ADMINS,
    "dispatcherStatus": ADMINS,
    "rules": ADMINS,
    "rule": ADMINS,
    "createRule": ADMINS,
    "updateRule": ADMINS,
    "toggleRule": ADMINS,
    "deleteRule": ADMINS,
    "teams": ADMINS,
    "upsertTeam": ADMINS,
    "deleteTeam": ADMINS,
    "setTeamMembers": ADMINS,
    "addTeamMembers": ADMINS,
    "removeTeamMembers": ADMINS,
    # what could sign in as anyone of the tenant
    "rotateSigningSecret": OWNERS,
    # reading what the tenant has set up
    "eventCategories": TENANT,
    "preferences": TENANT,
    "deliveries": TENANT,  # a member sees the deliveries of their own notifications
    "deliveryStatus": TENANT,  # likewise
    "sendTestNotification": TENANT,  # a user tests on themselves; a key on owners and admins
    # the viewer's own inbox and choices
    "viewer": USER,
    "notifications": USER,
    "notification": USER,
    "notificationStats": USER,
    "unreadCount": USER,
    "unseenCount": USER,
    "inbox": USER,
    "markNotificationRead": USER,
    "setNotificationRead": USER,
    "markNotificationsRead": USER,
    "markAllNotificationsRead": USER,
    "deleteNotification": USER,
    "deleteReadNotifications": USER,
    "markNotificationsSeen": USER,
    "archiveNotification": USER,
    "unarchiveNotification": USER,
    "archiveReadNotifications": USER,
    "recordNotificationAction": USER,
    "snoozeNotification": USER,
    "unsnoozeNotification": USER,
    "updateMyPreference": USER,
    "updateMyQuietHours": USER,
}

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

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        needed = PERMISSIONS[info.field_name]
        principal = info.context.require_principal()
        if not access_of(principal) & needed:
            raise Forbidden(f"{info.field_name} needs {describe(needed)}")
        if info.context.by_cookie and info.operation.operation is OperationType.MUTATION:
            check_cookie_origin(info)
        return True


def check_cookie_origin(info: Info) -> None:
    """A change made with the session cookie comes from a page the tenant trusts (CSRF)."""
    cookie = info.context.session_cookie
    if cookie is None or not cookie.from_allowed_origin():
        raise Forbidden(
            "A mutation signed in by the session cookie must come from an allowed origin "
            "(BELFRY_ALLOWED_ORIGINS) or the API's own; send the token in Authorization instead"
        )
