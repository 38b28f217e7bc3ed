"""The registry: each channel's facts, which every list of channels elsewhere is read from,
and the channels installed packages add."""

from pathlib import Path

import pytest

from app.delivery.providers import REGISTRY, installed
from app.delivery.providers.base import Target, TargetKind
from app.models.channels import Channel, installed_channels
from tests.delivery.helpers import install_package

# channel: (target kind, held by quiet hours, testable by a member, configured by the tenant)
FACTS = {
    Channel.IN_APP: (TargetKind.INBOX, False, True, False),
    Channel.EMAIL: (TargetKind.ADDRESS, True, True, True),
    Channel.SMS: (TargetKind.ADDRESS, True, True, True),
    Channel.WEBHOOK: (TargetKind.ENDPOINT, False, False, True),
    Channel.SLACK: (TargetKind.ENDPOINT, True, False, True),
    Channel.TELEGRAM: (TargetKind.ENDPOINT, True, False, True),
}


def test_each_channel_states_its_facts() -> None:
    stated = {
        channel: (p.target_kind, p.held_by_quiet_hours, p.member_testable, p.configurable)
        for channel, p in REGISTRY.items()
    }

    assert stated == FACTS


@pytest.mark.parametrize(
    ("channel", "recognised"),
    [(Channel.EMAIL, "ada@example.com"), (Channel.SMS, "+15550100")],
)
def test_an_address_channel_recognises_its_own_addresses_alone(
    channel: Channel, recognised: str
) -> None:
    others = {"ada@example.com", "+15550100", "ada-1", "15550100"} - {recognised}

    assert REGISTRY[channel].recognises(recognised)
    assert not any(REGISTRY[channel].recognises(other) for other in others)


def test_endpoint_channels_recognise_no_address() -> None:
    endpoints = [p for p in REGISTRY.values() if p.target_kind is TargetKind.ENDPOINT]

    assert endpoints
    assert not any(p.recognises(a) for p in endpoints for a in ("ada@example.com", "+15550100"))


@pytest.mark.parametrize(
    ("channel", "target"),
    [
        (Channel.EMAIL, Target(email="ada@example.com")),
        (Channel.SMS, Target(phone="ada@example.com")),
        (Channel.WEBHOOK, Target()),
    ],
)
def test_a_raw_address_is_the_target_on_the_channel_it_was_written_for(
    channel: Channel, target: Target
) -> None:
    assert REGISTRY[channel].target_of(None, "ada@example.com") == target


def test_a_recipient_is_the_target_on_every_channel() -> None:
    ada = Target(email="ada@example.com", phone="+15550100", name="Ada", external_id="ada-1")

    assert {p.target_of(ada, None) for p in REGISTRY.values()} == {ada}


def test_an_installed_channel_must_have_a_channels_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a package whose entry point is named as no GraphQL enum value could be
    install_package(tmp_path, "belfry-pigeons", {"pigeon-post": "pigeons:Provider"})
    monkeypatch.syspath_prepend(tmp_path)

    # When Belfry looks for installed channels, then it refuses the name
    with pytest.raises(ValueError, match="'pigeon-post' must be a channel name"):
        installed_channels()


def test_an_installed_channel_must_name_its_own_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a package that names the SMS provider for a channel called SIGNAL
    install_package(tmp_path, "belfry-signal", {"SIGNAL": "app.delivery.providers.sms:SmsProvider"})
    monkeypatch.syspath_prepend(tmp_path)

    # When Belfry loads the providers of installed channels, then it refuses that one
    with pytest.raises(TypeError, match=r"whose kind is Channel\.SIGNAL"):
        installed()
