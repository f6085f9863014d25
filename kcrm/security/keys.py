"""API keys: created once, shown once, stored only as a digest, resolved to a `Principal`.

A key reads `kcrm_<key id>_<secret>`. The key id is public (it names the key in `kcrm keys
list`, the audit log and revocation); the secret is 32 random bytes. Only the SHA-256 of the
whole key is stored: the secret has 256 bits of entropy, so a slow password hash would add
nothing but latency on every request, and a leaked database reveals no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import GraphUnavailable, KeyRequestError
from kcrm.kg.connection import Graph
from kcrm.security.access import ROLES, Principal
from kcrm.statedb import KEY, SERVICE_LABEL, state_graph

KEY_PATTERN = re.compile(r"^kcrm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
GROUP_PATTERN = re.compile(r"^[\w.:-]{1,100}$")


@dataclass(frozen=True)
class ApiKey:
    """A stored key's public facts (never its secret)."""

    key_id: str
    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    all_groups: bool
    created_at: str
    created_by: str
    revoked_at: str | None

    def principal(self) -> Principal:
        return Principal(key_id=self.key_id, name=self.name, roles=frozenset(self.roles),
                         groups=frozenset(self.groups), sees_everything=self.all_groups)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__, roles=list(self.roles), groups=list(self.groups))


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _row(row: dict) -> ApiKey:
    return ApiKey(key_id=row["key_id"], name=row["name"], roles=tuple(row["roles"]), groups=tuple(row["groups"]),
                  all_groups=bool(row["all_groups"]), created_at=row["created_at"], created_by=row["created_by"],
                  revoked_at=row.get("revoked_at"))


CREATE = f"""
CREATE (k:{SERVICE_LABEL}:{KEY} {{key_id: $key_id, name: $name, digest: $digest, roles: $roles, groups: $groups,
        all_groups: $all_groups, created_at: $created_at, created_by: $created_by}})
"""
LIST = f"MATCH (k:{KEY}) RETURN k{{.*}} AS k ORDER BY k.created_at, k.key_id"
REVOKE = f"""
MATCH (k:{KEY} {{key_id: $key_id}})
SET k.revoked_at = coalesce(k.revoked_at, $now)
RETURN k{{.*}} AS k
"""
BY_ID = f"MATCH (k:{KEY} {{key_id: $key_id}}) RETURN k{{.*}} AS k"


@dataclass
class _Cached:
    row: dict[str, Any] | None
    at: float


class KeyStore:
    """Create, list, revoke and check keys, stored in the graph database every process shares.

    `authenticate` keeps what it read for `cache_s` seconds (KCRM_AUTH_CACHE_S): a revocation on
    any process is refused everywhere within that time. While Neo4j cannot be reached, a key this
    process has already checked keeps working for `stale_s` (nobody can revoke it meanwhile,
    since revocation writes to the same Neo4j), so the API answers 503 for the graph, not 401.
    """

    def __init__(self, settings: Settings, cache_s: float | None = None, stale_s: float = 3600.0) -> None:
        self.settings = settings
        self.cache_s = settings.auth_cache_s if cache_s is None else cache_s
        self.stale_s = stale_s
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    @property
    def graph(self) -> Graph:
        return state_graph(self.settings)

    def create(self, name: str, roles: list[str], groups: list[str] | None = None, all_groups: bool = False,
               created_by: str = "cli") -> tuple[str, ApiKey]:
        """A new key: returns the plain key (the only time it exists) and its stored facts."""
        name = name.strip()
        if not name or len(name) > 200:
            raise KeyRequestError("a key needs a name of 1 to 200 characters")
        unknown = sorted(set(roles) - set(ROLES))
        if not roles or unknown:
            raise KeyRequestError(f"unknown role(s) {unknown}; choose from {list(ROLES)}" if unknown
                            else f"a key needs at least one role from {list(ROLES)}")
        bad = [g for g in groups or [] if not GROUP_PATTERN.match(g)]
        if bad:
            raise KeyRequestError(f"bad group name(s) {bad}: use letters, digits and . _ : - (at most 100)")
        key_id = secrets.token_hex(6)
        plain = f"kcrm_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id=key_id, name=name, roles=tuple(sorted(set(roles))),
                        groups=tuple(sorted(set(groups or []))), all_groups=all_groups,
                        created_at=datetime.now(UTC).isoformat(timespec="seconds"), created_by=created_by,
                        revoked_at=None)
        self.graph.write(CREATE, key_id=key_id, name=name, digest=digest(plain), roles=list(record.roles),
                         groups=list(record.groups), all_groups=all_groups, created_at=record.created_at,
                         created_by=created_by)
        return plain, record

    def list(self, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, oldest first."""
        keys = [_row(r["k"]) for r in self.graph.read(LIST)]
        return keys if include_revoked else [k for k in keys if k.revoked_at is None]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key now; every process refuses it within KCRM_AUTH_CACHE_S."""
        rows = self.graph.write(REVOKE, key_id=key_id, now=datetime.now(UTC).isoformat(timespec="seconds"))
        if not rows:
            raise KeyRequestError(f"no API key with id {key_id[:40]!r} (see `kcrm keys list`)")
        with self._lock:
            self._cache.pop(key_id, None)
        return _row(rows[0]["k"])

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else.

        Raises GraphUnavailable when the store cannot be read and this process has not seen the key.
        """
        match = KEY_PATTERN.match(key.strip())
        if not match:
            return None
        row = self._lookup(match.group(1))
        if row is None or row.get("revoked_at") is not None:
            return None
        if not hmac.compare_digest(row["digest"], digest(key.strip())):
            return None
        return _row(row).principal()

    def _lookup(self, key_id: str) -> dict[str, Any] | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and now - cached.at < self.cache_s:
            return cached.row
        try:
            rows = self.graph.read(BY_ID, key_id=key_id)
        except GraphUnavailable:
            if cached is not None and cached.row is not None and now - cached.at < self.stale_s:
                return cached.row
            raise
        row = rows[0]["k"] if rows else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key_id] = _Cached(row=row, at=now)
        return row
