"""Test notifications: a real publish through the pipeline, marked with a job id."""

import secrets
from uuid import UUID

from app.auth import Principal, UserPrincipal
from app.crypto import SecretBox
from app.errors import BadUserInput
from app.models import Channel
from app.services import channels, publishing, users


async def send_test_notification(
    *,
    principal: Principal,
    category: str,
    title: str,
    message: str | None,
    requested: set[Channel] | None,
    forced: set[Channel],
    box: SecretBox,
) -> tuple[str, list[UUID]]:
    """Forcing is how a channel is tried before it is enabled: a forced channel sends while
    disabled, as long as it is configured."""
    if unready := await channels.unready(tenant_id=principal.tenant_id, box=box, wanted=forced):
        raise BadUserInput(
            "Cannot force "
            + ", ".join(f"{c.value} ({reason})" for c, reason in unready.items())
            + ": configure it with updateChannel first",
            field="forceChannels",
        )
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
        draft=publishing.NotificationDraft(category=category, title=title, body=message),
        routing=publishing.Routing(requested=requested, forced=forced, job_id=job_id),
    )
    return job_id, result.notification_ids
