"""API keys: created once, shown once, stored only as a digest, resolved to a `Principal`.

A key reads `kcrm_<key id>_<secret>`. The key id is public (it names the key in `kcrm keys
list`, the audit log and revocation); the secret is 32 random bytes. Only the SHA-256 of the
whole key is stored: the secret has 256 bits of entropy, so a slow password hash would add
nothing but latency on every request, and a leaked database reveals no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kcrm.access import ROLES, Principal
from kcrm.errors import KeyRequestError
from kcrm.securitydb import connect_db

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
    return ApiKey(key_id=row["key_id"], name=row["name"], roles=tuple(json.loads(row["roles"])),
                  groups=tuple(json.loads(row["groups_"])), all_groups=bool(row["all_groups"]),
                  created_at=row["created_at"], created_by=row["created_by"], revoked_at=row["revoked_at"])


class KeyStore:
    """Create, list, revoke and check keys in the security database at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

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
        with connect_db(self.path) as conn:
            conn.execute("INSERT INTO api_keys (key_id, name, digest, roles, groups_, all_groups, created_at, "
                         "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (key_id, name, digest(plain), json.dumps(record.roles), json.dumps(record.groups),
                          int(all_groups), record.created_at, created_by))
        return plain, record

    def list(self, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, oldest first."""
        with connect_db(self.path) as conn:
            rows = conn.execute("SELECT * FROM api_keys ORDER BY created_at, key_id").fetchall()
        keys = [_row(dict(r)) for r in rows]
        return keys if include_revoked else [k for k in keys if k.revoked_at is None]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key now; it answers 401 from the next request on."""
        with connect_db(self.path) as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
            if row is None:
                raise KeyRequestError(f"no API key with id {key_id[:40]!r} (see `kcrm keys list`)")
            if row["revoked_at"] is None:
                conn.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?",
                             (datetime.now(UTC).isoformat(timespec="seconds"), key_id))
            row = conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return _row(dict(row))

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        match = KEY_PATTERN.match(key.strip())
        if not match:
            return None
        with connect_db(self.path) as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (match.group(1),)).fetchone()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["digest"], digest(key.strip())):
            return None
        return _row(dict(row)).principal()
