"""Tortoise models, one module per domain. Tortoise discovers them through this package."""

# Model docstrings become SQL comments: no semicolons in them (SQLite scripts split on those).
from app.models.catalog import EventCategory
from app.models.channels import Channel, ChannelConfig
from app.models.deliveries import (
    FINISHED,
    IN_FLIGHT,
    QUEUE,
    Delivery,
    DeliveryStatus,
    Snapshot,
)
from app.models.notifications import InboxCounter, Notification, NotificationTag, Priority
from app.models.preferences import (
    QuietHours,
    TenantChannelPreference,
    UserChannelPreference,
)
from app.models.rules import Cadence, ConditionLogic, Digest, DigestItem, Event, Rule
from app.models.schedules import ScheduledNotification
from app.models.teams import Team, TeamMember, TeamRef
from app.models.tenants import ApiKey, Tenant
from app.models.users import Role, User, UserErasure

__models__ = [
    Tenant,
    ApiKey,
    User,
    UserErasure,
    Team,
    TeamMember,
    Notification,
    NotificationTag,
    InboxCounter,
    ScheduledNotification,
    EventCategory,
    TenantChannelPreference,
    UserChannelPreference,
    QuietHours,
    ChannelConfig,
    Delivery,
    Rule,
    Event,
    Digest,
    DigestItem,
]

__all__ = [
    "FINISHED",
    "IN_FLIGHT",
    "QUEUE",
    "ApiKey",
    "Cadence",
    "Channel",
    "ChannelConfig",
    "ConditionLogic",
    "Delivery",
    "DeliveryStatus",
    "Digest",
    "DigestItem",
    "Event",
    "EventCategory",
    "InboxCounter",
    "Notification",
    "NotificationTag",
    "Priority",
    "QuietHours",
    "Role",
    "Rule",
    "ScheduledNotification",
    "Snapshot",
    "Team",
    "TeamMember",
    "TeamRef",
    "Tenant",
    "TenantChannelPreference",
    "User",
    "UserChannelPreference",
    "UserErasure",
]
