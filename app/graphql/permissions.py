"""Who may call what, declared next to each field with `permission_classes=[...]`."""

from typing import Any

from strawberry.permission import BasePermission

from app.graphql.context import Info


class IsUser(BasePermission):
    """The viewer's own operations: a user token, never an API key."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.user is not None  # raises UNAUTHENTICATED / FORBIDDEN


class IsApiKey(BasePermission):
    """Server-side operations: a tenant API key."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.api_key is not None
