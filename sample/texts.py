"""The sample's ticket and article prose, per language, read from `texts/en.json` and `texts/zh.json`.

Each topic has scenarios (kind, title, symptom, resolution) that belong together, sentences that
fit any scenario (`details`, what the customer `tried`), and article material (`causes`, `steps`,
FAQ `questions`). A scenario's kind (see `SCENARIO_KINDS` in `common`) limits the products it is
told about: "hw" physical goods, "dev" powered devices, "sw" software and service plans, "" any,
and narrower kinds such as "net" (routers, access points) or "lap" (laptops). Titles may offer
variants separated by "||". Slots in braces are filled per case. The Chinese texts are written the
way customers in mainland China write to a support desk (WeChat, 400 hotline, e-mail), not as a
translation of the English ones; same layout and slots. Prose is data, kept out of the code.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

LANGUAGES = ("en", "zh")


def load_texts(language: str) -> dict[str, dict[str, list[Any]]]:
    """The topic texts of one language; scenarios as tuples, as the generator unpacks them."""
    raw = json.loads(files("kcrm.sample").joinpath("texts", f"{language}.json").read_text(encoding="utf-8"))
    for topic in raw.values():
        topic["scenarios"] = [tuple(s) for s in topic["scenarios"]]
    return raw
