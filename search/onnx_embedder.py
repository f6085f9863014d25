"""A BERT-style sentence embedder run with onnxruntime: no torch, weights from a model package.

Used for bge-small-en (see `model_packages`): texts are tokenised with the model's own
`tokenizer.json` (HuggingFace `tokenizers`), batched by length so short case texts do not pay for
padding up to the longest manual page, pooled (CLS or mean) and L2-normalised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kcrm.foundation.errors import EmbedderUnavailable
from kcrm.search.embedder import l2_normalise
from kcrm.search.model_packages import ModelPackage

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _load_session(model_path: str, tokenizer_path: str, threads: int, max_tokens: int) -> tuple[Any, Any]:
    """One onnxruntime session and tokenizer per model and thread count, per process."""
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - core dependencies
        raise EmbedderUnavailable("the onnx backend needs 'onnxruntime' and 'tokenizers'") from exc
    started = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(tokenizer_path)
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    log.info("loaded onnx model %s in %.2f s (%d threads)", model_path, time.perf_counter() - started, threads)
    return session, tokenizer


class OnnxEmbedder:
    """Sentence embeddings from an ONNX BERT encoder and its tokenizer.json."""

    def __init__(self, folder: Path, package: ModelPackage, threads: int = 1, batch_size: int = 32,
                 max_tokens: int | None = None) -> None:
        self.package = package
        self.dim = package.dim
        self.batch_size = batch_size
        self.max_tokens = max_tokens or package.max_tokens
        self.name = f"onnx:{package.name}:{self.max_tokens}"
        model, tokenizer = folder / "model.onnx", folder / "tokenizer.json"
        if not model.is_file() or not tokenizer.is_file():
            raise EmbedderUnavailable(f"no model.onnx/tokenizer.json in {folder}")
        with _lock:
            self._session, self._tokenizer = _load_session(str(model), str(tokenizer), threads, self.max_tokens)
        self._inputs = {item.name for item in self._session.get_inputs()}

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        if self.package.pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Sorting by length keeps each batch's padding small; results go back to input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = self._encode_batch([texts[i] or " " for i in rows])
        return l2_normalise(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries with the model's retrieval instruction (bge: 'Represent this sentence...')."""
        return self._embed([self.package.query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages as they are."""
        return self._embed(list(texts))


_lock = threading.Lock()
