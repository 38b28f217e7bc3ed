"""Every enum the schema exposes, registered with Strawberry here and nowhere else. The schema
imports this module first, so that no type depends on another module having been imported
to find its enums. Most are the models' and services' own enums, exposed as they are."""

from enum import Enum

import strawberry

from app import models
from app.live.messages import InboxEventKind
from app.services import inbox, preferences

strawberry.enum(models.Role)
strawberry.enum(models.Channel)
strawberry.enum(models.DeliveryStatus)
strawberry.enum(models.Priority)
strawberry.enum(models.ConditionLogic)
strawberry.enum(models.Cadence)
strawberry.enum(InboxEventKind)
strawberry.enum(inbox.ReadState)
strawberry.enum(
    inbox.ArchiveFilter,
    description="EXCLUDE lists the inbox, ONLY the archive, INCLUDE both.",
)
strawberry.enum(
    inbox.NotificationOrder,
    description="NEWEST first, or by PRIORITY (highest first), then newest.",
)
strawberry.enum(preferences.Scope, name="PreferenceScope")
strawberry.enum(preferences.Source, name="PreferenceSource")


@strawberry.enum
class Weekday(Enum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7
