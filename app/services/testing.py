"""Test notifications: a real publish through the pipeline, marked with a job id.

A member tests on their own inbox and address; the channels everyone shares (webhook,
Slack, Telegram) are for owners, admins and the API key. Test sends are rate limited, counted
in the log itself so the limit holds across replicas."""

import secrets
from datetime import timedelta
from uuid import UUID

from app import clock
from app.auth import Principal, UserPrincipal
from app.crypto import SecretBox
from app.delivery.providers import channels_where
from app.errors import BadUserInput, Forbidden, RateLimited
from app.models import Channel, Delivery, Role
from app.services import channels, publishing, users

# A member's own channels: what reaches only them.
OWN_CHANNELS = channels_where(lambda provider: provider.member_testable)
WINDOW = timedelta(minutes=1)
PER_USER = 5  # test sends a user may make per window
PER_TENANT = 30  # and the tenant's owners, admins and API keys together


async def send_test_notification(
    *,
    principal: Principal,
    category: str,
    title: str,
    message: str | None,
    link: str | None,
    requested: set[Channel] | None,
    forced: set[Channel],
    box: SecretBox,
) -> tuple[str, list[UUID]]:
    """Forcing is how a channel is tried before it is enabled: a forced channel sends while
    disabled, as long as it is configured."""
    member = isinstance(principal, UserPrincipal) and principal.role is Role.MEMBER
    if member:
        _refuse_shared(requested, forced)
        requested = set(OWN_CHANNELS if requested is None else requested)
    if unready := await channels.unready(tenant_id=principal.tenant_id, box=box, wanted=forced):
        raise BadUserInput(
            "Cannot force "
            + ", ".join(f"{c.value} ({reason})" for c, reason in unready.items())
            + ": configure it with updateChannel first",
            field="forceChannels",
        )
    await _check_rate(principal)
    if isinstance(principal, UserPrincipal):
        recipients = [principal.external_id]
    else:
        recipients = await users.admin_external_ids(tenant_id=principal.tenant_id)
        if not recipients:
            raise BadUserInput("The tenant has no owner or admin to send a test to")
    job_id = f"job_{secrets.token_hex(8)}"
    result = await publishing.publish_notification(
        tenant_id=principal.tenant_id,
        recipients=recipients,
        draft=publishing.NotificationDraft(category=category, title=title, body=message, link=link),
        routing=publishing.Routing(requested=requested, forced=forced, job_id=job_id),
        joins_catalogue=False,  # a test changes nothing, and a member may not add categories
    )
    return job_id, result.notification_ids


def _refuse_shared(requested: set[Channel] | None, forced: set[Channel]) -> None:
    shared = ((requested or set()) | forced) - OWN_CHANNELS
    if shared:
        names = ", ".join(sorted(c.value for c in shared))
        raise Forbidden(f"Test sends to shared channels ({names}) need an OWNER, ADMIN or API key")


async def _check_rate(principal: Principal) -> None:
    """At most PER_USER test sends a window for a user, PER_TENANT for the administrators."""
    since = clock.now() - WINDOW
    recent = Delivery.filter(
        tenant_id=principal.tenant_id, job_id__isnull=False, created_at__gte=since
    )
    if isinstance(principal, UserPrincipal) and principal.role is Role.MEMBER:
        recent, limit = recent.filter(recipient_id=principal.user_id), PER_USER
    else:
        limit = PER_TENANT
    jobs = await recent.distinct().values_list("job_id", flat=True)
    if len(jobs) >= limit:
        raise RateLimited(
            f"At most {limit} test sends a minute; try again shortly",
            retry_after=int(WINDOW.total_seconds()),
        )
