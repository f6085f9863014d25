"""Pick the search backend by one setting, `KCRM_SEARCH_BACKEND` (`local` or `opensearch`).

`local` is the embedded default (FAISS + kcrm's BM25, files under the data dir) that `make demo`
and the tests use with no extra server. Backends are imported only when chosen, so a build
without an engine's client still runs the others.
"""

from __future__ import annotations

import importlib

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import SearchBackendError
from kcrm.search.contract import SearchBackend

SETTING = "KCRM_SEARCH_BACKEND"
# name -> (module, factory function taking Settings and returning a SearchBackend)
BACKENDS: dict[str, tuple[str, str]] = {
    "local": ("kcrm.search.local_backend", "open_local_backend"),
    "opensearch": ("kcrm.search.opensearch_backend", "open_opensearch_backend"),
}


def backend_name(settings: Settings) -> str:
    """The configured backend's name, or `SearchBackendError` naming the setting and the choices."""
    name = settings.search_backend.strip().lower()
    if name not in BACKENDS:
        raise SearchBackendError(f"unknown {SETTING} {settings.search_backend!r}: use one of {', '.join(BACKENDS)}")
    return name


def make_backend(settings: Settings) -> SearchBackend:
    """Open the configured backend over the published index (`IndexNotReady` if there is none)."""
    name = backend_name(settings)
    module_name, function = BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise SearchBackendError(f"{SETTING}={name}: the {name} backend is not installed in this build "
                                     f"({module_name} is missing)") from exc
        raise SearchBackendError(f"{SETTING}={name}: the {name} backend needs {exc.name!r}, which is not "
                                 f"installed (pip install it)") from exc
    backend: SearchBackend = getattr(module, function)(settings)
    return backend
