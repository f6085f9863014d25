"""API keys in the shared Neo4j: created with a digest only, resolved to a principal, refused once
revoked or malformed, and a revocation seen by another process's store within the cache time."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from kcrm.foundation.errors import KeyRequestError
from kcrm.security.keys import KeyStore
from kcrm.statedb import KEY

pytestmark = pytest.mark.e2e


@pytest.fixture
def store(state_settings, loaded) -> KeyStore:
    return KeyStore(state_settings)


def test_a_created_key_resolves_to_its_principal(store: KeyStore) -> None:
    plain, record = store.create("desk", ["agent", "expert"], ["key-accounts"])
    principal = store.authenticate(plain)
    assert principal is not None
    assert principal.key_id == record.key_id and principal.name == "desk"
    assert principal.roles == {"agent", "expert"} and principal.groups == {"key-accounts"}
    assert not principal.sees_everything and principal.has_role("expert") and not principal.has_role("admin")


def test_only_the_digest_is_stored(store: KeyStore, graph) -> None:
    plain, record = store.create("desk", ["agent"])
    raw = json.dumps(graph.read(f"MATCH (k:{KEY} {{key_id: $id}}) RETURN properties(k) AS p", id=record.key_id))
    assert plain not in raw and plain.split("_")[2] not in raw
    assert hashlib.sha256(plain.encode()).hexdigest() in raw


def test_revoked_tampered_and_malformed_keys_are_refused(store: KeyStore) -> None:
    plain, record = store.create("desk", ["agent"])
    other, _ = store.create("other", ["agent"])
    swapped = f"kcrm_{record.key_id}_{other.split('_')[2]}"  # a real secret under another key's id
    for bad in (swapped, plain + "x", plain.upper(), "", "Bearer " + plain, "kcrm_zz_zz"):
        assert store.authenticate(bad) is None, bad
    assert store.revoke(record.key_id).revoked_at is not None
    assert store.authenticate(plain) is None
    assert store.authenticate(other) is not None
    active = {k.key_id for k in store.list(include_revoked=False)}
    assert other.split("_")[1] in active and record.key_id not in active


def test_a_revocation_reaches_another_process_store_within_the_cache_time(store: KeyStore, state_settings) -> None:
    elsewhere = KeyStore(state_settings)  # another process's store: its own cache
    plain, record = store.create("desk", ["agent"])
    assert elsewhere.authenticate(plain) is not None
    store.revoke(record.key_id)
    time.sleep(state_settings.auth_cache_s + 0.05)
    assert elsewhere.authenticate(plain) is None


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
