"""The API's cached graph facts follow ingest: a product loaded, renamed or removed shows in case assist.

The API runs in its own process; loading here changes the graph's watermark, and the server's
cache must notice it (within its check interval) without a restart.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e
UID = "PRD-CACHE-TEST"


def product_dir(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name.replace(" ", "-")
    directory.mkdir()
    record = {"type": "Product", "uid": UID, "props": {"name": name, "sku": "SKL-ZQ-CACHE", "price": 10.0,
                                                        "currency": "USD"}, "rels": []}
    (directory / "products.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return directory


def recognised(api, text: str) -> set[str]:
    response = api.post("/v1/cases/assist", json={"text": text, "cases": 1, "experts": 1})
    assert response.status_code == 200, response.text
    return {m["uid"] for m in response.json()["entities"]}


def eventually(check, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def test_assist_entities_follow_ingest_without_a_restart(api, graph, e2e_settings, tmp_path: Path) -> None:
    text = "My Zephyrcast Q9000 projector will not power on, and the Zephyrcast Q9100 neither"
    try:
        assert UID not in recognised(api, text)  # warms the server's cache without the product
        report = workflows.load_records(e2e_settings, graph, product_dir(tmp_path, "Skylark Zephyrcast Q9000"))
        assert not report.rejected
        assert eventually(lambda: UID in recognised(api, "the Zephyrcast Q9000 will not power on"))
        workflows.load_records(e2e_settings, graph, product_dir(tmp_path, "Skylark Zephyrcast Q9100"))
        assert eventually(lambda: UID in recognised(api, "the Zephyrcast Q9100 will not power on")
                          and UID not in recognised(api, "the Zephyrcast Q9000 will not power on"))
    finally:
        graph.write("MATCH (p:Product {uid: $uid}) DETACH DELETE p", uid=UID)
    assert eventually(lambda: UID not in recognised(api, text))  # a removed node changes the count
