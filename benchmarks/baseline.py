"""Run a `kcrm` command with an earlier commit's code, to compare figures in the same session.

The commit is exported once with `git archive` under var/bench/ (see `search_scale.baseline_tree`)
and imported ahead of the editable install, so the command runs exactly that implementation over
the same data, e.g. `kcrm eval search` before and after a change:

    KCRM_EMBEDDER=hashing .venv/bin/python benchmarks/baseline.py f47e3f8 eval search \\
        --dataset /work/shared/data/beir_scifact
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_scale import baseline_tree  # noqa: E402


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    commit, argv = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, str(baseline_tree(commit)))
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in str(getattr(f, "__module__", ""))]
    from kcrm import cli  # the baseline's

    print(f"[baseline {commit}: {cli.__file__}]", file=sys.stderr)
    sys.argv = ["kcrm", *argv]
    cli.app()


if __name__ == "__main__":
    main()
