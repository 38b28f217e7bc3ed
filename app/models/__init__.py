"""Tortoise models, one module per domain. Tortoise discovers them through this package."""

from app.models.notifications import InboxCounter, Notification
from app.models.tenants import ApiKey, Tenant
from app.models.users import Role, User

__models__ = [Tenant, ApiKey, User, Notification, InboxCounter]

__all__ = ["ApiKey", "InboxCounter", "Notification", "Role", "Tenant", "User"]
