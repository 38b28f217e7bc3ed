from enum import StrEnum


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    WEBHOOK = "WEBHOOK"
    SLACK = "SLACK"
    TELEGRAM = "TELEGRAM"


# The column that holds each channel's switch in preference rows.
CHANNEL_FIELDS: dict[Channel, str] = {channel: channel.value.lower() for channel in Channel}
