"""Tortoise models, one module per domain. Tortoise discovers them through this package."""

# Model docstrings become SQL comments: no semicolons in them (SQLite scripts split on those).
from app.models.catalog import EventCategory, EventCategoryRow
from app.models.channels import Channel, ChannelConfig
from app.models.deliveries import (
    FINISHED,
    IN_FLIGHT,
    QUEUE,
    Delivery,
    DeliveryRow,
    DeliveryStatus,
    Snapshot,
)
from app.models.notifications import (
    ActionJson,
    InboxCounter,
    Notification,
    NotificationRow,
    NotificationTag,
    Priority,
    TagRow,
)
from app.models.preferences import (
    QuietHours,
    TenantChannelPreference,
    UserChannelPreference,
)
from app.models.rules import (
    Cadence,
    Condition,
    ConditionLogic,
    Digest,
    DigestItem,
    Event,
    Operator,
    Rule,
    RuleAction,
)
from app.models.schedules import ScheduledContent, ScheduledNotification
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
    "ActionJson",
    "ApiKey",
    "Cadence",
    "Channel",
    "ChannelConfig",
    "Condition",
    "ConditionLogic",
    "Delivery",
    "DeliveryRow",
    "DeliveryStatus",
    "Digest",
    "DigestItem",
    "Event",
    "EventCategory",
    "EventCategoryRow",
    "InboxCounter",
    "Notification",
    "NotificationRow",
    "NotificationTag",
    "Operator",
    "Priority",
    "QuietHours",
    "Role",
    "Rule",
    "RuleAction",
    "ScheduledContent",
    "ScheduledNotification",
    "Snapshot",
    "TagRow",
    "Team",
    "TeamMember",
    "TeamRef",
    "Tenant",
    "TenantChannelPreference",
    "User",
    "UserChannelPreference",
    "UserErasure",
]
