"""Channel secrets at rest: sealed with the newest key, opened with any, old ones still read."""

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto import PREFIX, SecretBox, SecretUnreadable
from tests.helpers import legacy_seal


def test_a_sealed_secret_opens_and_shows_nothing_of_itself() -> None:
    box = SecretBox(["k1"])

    sealed = box.seal('"xoxb-secret"')

    assert sealed.startswith(PREFIX) and "xoxb" not in sealed
    assert box.open(sealed) == '"xoxb-secret"'
    assert box.seal('"xoxb-secret"') != sealed  # a fresh nonce each time


def test_a_key_put_in_front_seals_and_the_old_one_still_reads() -> None:
    # given a secret sealed before the rotation began
    sealed_before = SecretBox(["old"]).seal("s1")

    # when a new key goes in front
    box = SecretBox(["new", "old"])
    sealed_after = box.seal("s2")

    # then both read, and what is sealed now needs only the new key
    assert box.open(sealed_before) == "s1"
    assert SecretBox(["new"]).open(sealed_after) == "s2"
    with pytest.raises(SecretUnreadable):
        SecretBox(["old"]).open(sealed_after)


def test_resealing_moves_a_secret_to_the_newest_key() -> None:
    sealed = SecretBox(["old"]).seal("s1")
    box = SecretBox(["new", "old"])

    resealed = box.reseal(sealed)

    assert not box.is_current(sealed) and box.is_current(resealed)
    assert SecretBox(["new"]).open(resealed) == "s1"


def test_a_box_without_the_sealing_key_cannot_open_it() -> None:
    sealed = SecretBox(["right"]).seal("s1")

    with pytest.raises(SecretUnreadable, match="BELFRY_SECRET_KEY"):
        SecretBox(["wrong"]).open(sealed)


@pytest.mark.parametrize("stored", ["plain text", "enc:v2:not-a-token", "enc:v9:whatever"])
def test_a_value_that_is_not_a_sealed_secret_is_unreadable(stored: str) -> None:
    with pytest.raises(SecretUnreadable):
        SecretBox(["k1"]).open(stored)


def test_secrets_sealed_in_the_first_format_still_open_with_any_key_in_the_list() -> None:
    sealed = legacy_seal("old", "s1")
    box = SecretBox(["new", "old"])

    assert box.open(sealed) == "s1"
    assert not box.is_current(sealed)
    assert box.is_current(box.reseal(sealed))


def test_the_format_is_pinned_each_key_derived_with_hkdf_sha256() -> None:
    # Stored secrets must open after any upgrade: the derivation may never change quietly.
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"belfry channel secrets"
    ).derive(b"k1")

    sealed = SecretBox(["k1"]).seal("s1")

    fernet = Fernet(base64.urlsafe_b64encode(derived))
    assert fernet.decrypt(sealed.removeprefix("enc:v2:").encode()) == b"s1"


def test_a_box_needs_a_key() -> None:
    with pytest.raises(ValueError, match="BELFRY_SECRET_KEY"):
        SecretBox([])


def test_a_value_stored_in_clear_before_sealing_is_read_as_it_is_and_sealed_on_request() -> None:
    box = SecretBox(["k1"])

    sealed = box.sealed("stored in clear")

    assert box.open_or_plain("stored in clear") == "stored in clear"
    assert sealed.startswith(PREFIX) and box.open_or_plain(sealed) == "stored in clear"
    assert box.sealed(sealed) == sealed  # sealed already: left as it is


def test_a_box_opens_a_secret_again_only_with_a_key_it_holds() -> None:
    # A box keeps what it opened; another box, without the key, still cannot open it.
    sealed = SecretBox(["k1"]).seal("s1")
    assert SecretBox(["k1"]).open(sealed) == "s1"

    with pytest.raises(SecretUnreadable):
        SecretBox(["k2"]).open(sealed)
