"""Both search indexes published as one generation: one directory, one manifest, one swap.

The dense (FAISS) and lexical (BM25) indexes answer one query together, so they are published
together: each writes its own files and manifest into `dense/` and `lexical/` of one staging
directory, a top manifest names the generation, the graph watermark and each side's build id,
and the whole directory is swapped in at once (`atomic.publish_directory`). A reader sees one
generation or the next, never a lexical index from one build beside a dense one from another;
a read that straddled a swap sees mismatched build ids and simply reads again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kcrm.search import atomic
from kcrm.search.embedder import Embedder
from kcrm.search.lexical import BM25Index
from kcrm.search.tokenizer import Analyzer
from kcrm.search.vector_index import FaissVectorIndex

log = logging.getLogger(__name__)

FORMAT = "kcrm-search-generation"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
DENSE_DIR = "dense"
LEXICAL_DIR = "lexical"


def read_generation(directory: Path) -> dict[str, Any]:
    """The top manifest of a published generation; `IndexNotReady`/`IndexIncompatible` otherwise."""
    return atomic.read_manifest(Path(directory), FORMAT, FORMAT_VERSION, MANIFEST_FILE)


def publish(directory: Path, dense: FaissVectorIndex, lexical: BM25Index, watermark: str,
            details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write both indexes as the next generation and swap it in atomically; returns its manifest."""
    directory = Path(directory)
    try:
        previous = int(read_generation(directory).get("generation", 0))
    except Exception:  # noqa: BLE001 - no (readable) previous generation: start at 1
        previous = 0

    def write(staging: Path) -> dict[str, Any]:
        (staging / DENSE_DIR).mkdir()
        (staging / LEXICAL_DIR).mkdir()
        dense_manifest = dense.write_files(staging / DENSE_DIR, watermark)
        lexical_manifest = lexical.write_files(staging / LEXICAL_DIR, watermark)
        atomic.fsync_dir(staging / DENSE_DIR)
        atomic.fsync_dir(staging / LEXICAL_DIR)
        top = atomic.write_files_and_manifest(
            staging, {}, fmt=FORMAT, version=FORMAT_VERSION, watermark=watermark, manifest_file=MANIFEST_FILE,
            details={
                "generation": previous + 1,
                **(details or {}),
                "dense": {"build_id": dense_manifest["build_id"], "kind": dense.kind, **dense_manifest["counts"]},
                "lexical": {"build_id": lexical_manifest["build_id"], **lexical_manifest["counts"]},
            },
        )
        return {"top": top, "dense": dense_manifest, "lexical": lexical_manifest}

    written = atomic.publish_directory(directory, write)
    dense.manifest, lexical.manifest = written["dense"], written["lexical"]
    log.info("published search generation %d to %s: %d chunks, %d lexical records, watermark %r",
             written["top"]["generation"], directory, dense.count(), lexical.count(), watermark)
    return written["top"]


def load(directory: Path, embedder: Embedder | None, analyzer: Analyzer | None = None,
         attempts: int = 3) -> tuple[FaissVectorIndex, BM25Index, dict[str, Any]]:
    """Both indexes of the published generation and its manifest, read consistently."""
    directory = Path(directory)

    def once() -> tuple[FaissVectorIndex, BM25Index, dict[str, Any]]:
        top = read_generation(directory)
        dense = FaissVectorIndex.load_once(directory / DENSE_DIR, embedder)
        lexical = BM25Index.load_once(directory / LEXICAL_DIR, analyzer)
        if (dense.manifest.get("build_id") != top["dense"]["build_id"]
                or lexical.manifest.get("build_id") != top["lexical"]["build_id"]):
            raise atomic.TornRead("the indexes do not belong to the generation's manifest")
        return dense, lexical, top

    return atomic.load_consistent(once, directory, attempts)


def generation_id(directory: Path) -> str | None:
    """The published generation's build id (cheap: one small file), or None when there is none."""
    try:
        return str(read_generation(directory)["build_id"])
    except Exception:  # noqa: BLE001 - nothing (readable) published
        return None
