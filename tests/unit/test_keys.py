"""API keys: created with a digest only, resolved to a principal, refused once revoked or malformed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kcrm.errors import KeyRequestError
from kcrm.keys import KeyStore


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "security.sqlite3")


def test_a_created_key_resolves_to_its_principal(store: KeyStore) -> None:
    plain, record = store.create("desk", ["agent", "expert"], ["key-accounts"])
    principal = store.authenticate(plain)
    assert principal is not None
    assert principal.key_id == record.key_id and principal.name == "desk"
    assert principal.roles == {"agent", "expert"} and principal.groups == {"key-accounts"}
    assert not principal.sees_everything and principal.has_role("expert") and not principal.has_role("admin")


def test_only_the_digest_is_stored(store: KeyStore, tmp_path: Path) -> None:
    plain, _ = store.create("desk", ["agent"])
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert plain.encode() not in raw and plain.split("_")[2].encode() not in raw
    assert hashlib.sha256(plain.encode()).hexdigest().encode() in raw


def test_revoked_tampered_and_malformed_keys_are_refused(store: KeyStore) -> None:
    plain, record = store.create("desk", ["agent"])
    other, _ = store.create("other", ["agent"])
    swapped = f"kcrm_{record.key_id}_{other.split('_')[2]}"  # a real secret under another key's id
    for bad in (swapped, plain + "x", plain.upper(), "", "Bearer " + plain, "kcrm_zz_zz"):
        assert store.authenticate(bad) is None, bad
    assert store.revoke(record.key_id).revoked_at is not None
    assert store.authenticate(plain) is None
    assert store.authenticate(other) is not None
    assert [k.key_id for k in store.list(include_revoked=False)] == [other.split("_")[1]]


def test_all_groups_key_sees_everything(store: KeyStore) -> None:
    plain, _ = store.create("ops", ["admin"], all_groups=True)
    principal = store.authenticate(plain)
    assert principal is not None and principal.sees_everything and principal.visible_groups() is None


@pytest.mark.parametrize(("roles", "groups", "message"), [
    ([], [], "at least one role"), (["boss"], [], "unknown role"), (["agent"], ["no spaces"], "bad group"),
])
def test_bad_requests_say_why(store: KeyStore, roles: list[str], groups: list[str], message: str) -> None:
    with pytest.raises(KeyRequestError, match=message):
        store.create("x", roles, groups)
    with pytest.raises(KeyRequestError, match="no API key"):
        store.revoke("123456789abc")
