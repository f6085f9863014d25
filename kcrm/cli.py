"""The `kcrm` command line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from kcrm import cli_subscriptions
from kcrm.cli_opensearch import opensearch_app
from kcrm.foundation.config import Settings, get_settings
from kcrm.foundation.errors import KcrmError
from kcrm.foundation.logs import configure_logging

app = typer.Typer(help="kcrm: customer knowledge graph and search.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
neo4j_app = typer.Typer(help="The bundled local Neo4j server.", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(opensearch_app, name="opensearch")


WORKER_PING_TIMEOUT_S = 60


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@contextmanager
def _exits_on(*kinds: type[Exception]) -> Iterator[None]:
    """Every command's error handling: the domain's errors (or `kinds`) print `error: ...` and exit 2."""
    caught: tuple[type[Exception], ...] = kinds or (KcrmError,)
    try:
        yield
    except caught as exc:
        _fail(exc)


def _emit(document: object, json_out: Path | None = None, indent: int | None = 2, echo: bool = True) -> None:
    """Every command's JSON output: printed (unless not `echo`) and, with `--json FILE`, written there too."""
    text = json.dumps(document, ensure_ascii=False, indent=indent, default=str)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(text, encoding="utf-8")
    if echo:
        typer.echo(text)


def _as_of(value: str | None) -> datetime | None:
    """The `--as-of` option as an aware date-time (UTC when no offset is given); exit 2 when malformed."""
    try:
        when = datetime.fromisoformat(value) if value else None
    except ValueError:
        _fail(ValueError(f"--as-of {value!r} is not an ISO 8601 date or date-time"))
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Install (first time) and start Neo4j on 127.0.0.1; wait until Bolt answers."""
    from kcrm.kg.server import LocalNeo4j

    settings = _settings()
    if not settings.local_neo4j:
        typer.echo(f"NEO4J_URI is set ({settings.neo4j_uri}): using that server, starting nothing.")
        return
    with _exits_on():
        status = LocalNeo4j(settings).start()
    typer.echo(f"neo4j running: pid {status.pid}, {status.bolt_uri}, log {status.log_path}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the bundled Neo4j server."""
    from kcrm.kg.server import LocalNeo4j

    with _exits_on():
        LocalNeo4j(_settings()).stop()
    typer.echo("neo4j stopped")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the bundled server runs, where, and where its log is."""
    from kcrm.kg.server import LocalNeo4j

    settings = _settings()
    if not settings.local_neo4j:
        typer.echo(f"using external Neo4j at {settings.neo4j_uri}")
        return
    status = LocalNeo4j(settings).status()
    state = "running" if status.running else "stopped"
    typer.echo(f"neo4j {state}: pid {status.pid}, {status.bolt_uri}, home {status.home}, log {status.log_path}")
    if not status.running:
        raise typer.Exit(1)


@app.command("sample")
def sample(
    out: Annotated[Optional[Path], typer.Option(help="Directory to write (default: DATA_DIR/sample).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 42,
) -> None:
    """Generate the sample company's record files."""
    from kcrm.sample import generate_sample

    settings = _settings()
    out = out or settings.sample_dir
    out.mkdir(parents=True, exist_ok=True)
    counts = generate_sample(out, seed=seed)
    _emit({"directory": str(out), "counts": counts}, indent=None)


@app.command("load")
def load(
    directory: Annotated[Optional[Path], typer.Argument(help="Directory of *.jsonl records (default: the sample).")] = None,
) -> None:
    """Upsert records into Neo4j in batches; idempotent. Exit 1 if any record was rejected."""
    from kcrm import workflows

    settings = _settings()
    with _exits_on(KcrmError, FileNotFoundError):
        directory = directory or workflows.ensure_sample(settings)
        with workflows.open_graph(settings) as graph:
            report = workflows.load_records(settings, graph, directory, progress=sys.stderr.isatty())
    summary = {key: value for key, value in report.as_dict().items() if key != "rejected"}
    summary["rejected"] = len(report.rejected)
    _emit(summary)
    for problem in report.rejected[:20]:
        typer.echo(f"rejected {problem.source}:{problem.line} uid={problem.uid} {problem.field}: {problem.reason}",
                   err=True)
    if report.rejected:
        raise typer.Exit(1)


@app.command("ingest")
def ingest(
    path: Annotated[str, typer.Argument(help="A file or a directory of files, or a database URL "
                                              "(sqlite:///crm.db, postgresql+psycopg://...) with --table or --query.")],
    fmt: Annotated[Optional[str], typer.Option("--format", help="Reader to use (default: by file extension).")] = None,
    mapping: Annotated[Optional[str], typer.Option(help="Mapping YAML file, or a shipped mapping's name.")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Text encoding, when detection cannot tell.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Provenance name on the nodes (default: PATH's name).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read, map and validate; write nothing.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Delete this source's nodes whose records are gone.")] = False,
    table: Annotated[Optional[str], typer.Option(help="With a database URL: the table (or schema.table).")] = None,
    query: Annotated[Optional[str], typer.Option(help="With a database URL: a SELECT instead of a table.")] = None,
    watermark: Annotated[Optional[str], typer.Option(help="With a database URL: read only rows whose COLUMN "
                                                          "reached past the last successful run.")] = None,
) -> None:
    """Read, map, clean, validate and load sources. Exit 1 if any record was rejected (see the report)."""
    from kcrm import workflows
    from kcrm.ingest.readers.sql import SqlSource

    settings = _settings()
    with _exits_on():
        sql = SqlSource(path, table=table, query=query, watermark=watermark) if "://" in path else None
        if sql is None and (table or query or watermark):
            raise KcrmError("--table, --query and --watermark need a database URL as PATH")
        target = Path(sql.safe_url() if sql else path)
        graph = None if dry_run else workflows.open_graph(settings)
        try:
            result = workflows.ingest(settings, graph, target, fmt=fmt, mapping=mapping, encoding=encoding,
                                      source=source or (sql.relative if sql else None), dry_run=dry_run,
                                      prune=prune, progress=sys.stderr.isatty(), sql=sql)
        finally:
            if graph is not None:
                graph.close()
        if not dry_run:
            from kcrm.alerts.service import drain_webhooks

            drain_webhooks(settings)
    _emit(result.summary())
    for problem in result.rejected[:20]:
        where = f"{problem.source}:{problem.line}" + (f" ({problem.locator})" if problem.locator else "")
        typer.echo(f"rejected {where} uid={problem.uid} {problem.field}: {problem.reason}", err=True)
    if len(result.rejected) > 20:
        typer.echo(f"... {len(result.rejected) - 20} more in {result.report_path}", err=True)
    if result.rejected:
        raise typer.Exit(1)


@app.command("validate")
def validate(directory: Annotated[Path, typer.Argument(help="Directory of *.jsonl records.")]) -> None:
    """Check records against the ontology with pySHACL (the reference validator); writes nothing."""
    from kcrm.ingest.directory import read_directory
    from kcrm.ingest.shacl import shacl_validate
    from kcrm.ontology.model import load_ontology

    _settings()
    ontology = load_ontology()
    records, problems = read_directory(directory, ontology)
    problems += shacl_validate(ontology, records)
    for problem in problems:
        typer.echo(f"{problem.source}:{problem.line} uid={problem.uid} {problem.field}: {problem.reason}")
    typer.echo(f"{len(records)} records read, {len(problems)} problems")
    if problems:
        raise typer.Exit(1)


@app.command("reindex")
def reindex(
    check: Annotated[bool, typer.Option("--check", help="Only say whether the index is stale (exit 1 if so).")] = False,
) -> None:
    """Rebuild the search index from Neo4j and swap it in atomically."""
    from kcrm import workflows
    from kcrm.search.freshness import index_freshness

    settings = _settings()
    with _exits_on():
        with workflows.open_graph(settings) as graph:
            freshness = index_freshness(settings, graph)
            typer.echo(f"index: {freshness.describe()}")
            if check:
                raise typer.Exit(1 if freshness.stale or freshness.index_watermark is None else 0)
            from kcrm.search.service import embedder_change

            if (change := embedder_change(settings)) is not None:
                typer.echo(change)
            path = workflows.reindex(settings, graph, progress=sys.stderr.isatty())
    typer.echo(f"index written to {path}")


@app.command("serve")
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default KCRM_API_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default KCRM_API_PORT).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes to serve with (default KCRM_API_WORKERS; "
                                                   "0 there: one per CPU core).")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) from one or more processes that share their state in Neo4j."""
    import uvicorn

    from kcrm.api.app import create_app
    from kcrm.api.workers import worker_count

    settings = _settings()
    count = worker_count(workers or settings.api_workers)
    if count == 1:
        uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                    log_config=None)
        return
    # Several processes: each builds its app from the same environment (uvicorn needs an import string).
    # uvicorn kills a worker that does not answer its supervisor's ping in time (5 s by default); a
    # worker busy loading the index on a loaded machine is slow, not dead (seen in the two-node tests).
    uvicorn.run("kcrm.api.app:create_app", factory=True, workers=count, host=host or settings.api_host,
                port=port or settings.api_port, log_config=None, timeout_worker_healthcheck=WORKER_PING_TIMEOUT_S)


@app.command("demo")
def demo(
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API when ready.")] = True,
) -> None:
    """Start Neo4j, load the sample company, build the index and serve the API."""
    from kcrm import workflows

    settings = _settings()
    started = time.monotonic()

    def said(step: str, seconds: float) -> None:
        typer.echo(f"  {step:<9} {seconds:6.1f} s", err=True)

    with _exits_on():
        with workflows.open_graph(settings) as graph:
            summary = workflows.prepare_demo(settings, graph, progress=sys.stderr.isatty(), on_step=said)
        from kcrm.alerts.service import drain_webhooks

        drain_webhooks(settings)
    rejected = getattr(summary["load"], "rejected", [])
    if rejected:
        typer.echo(f"warning: {len(rejected)} sample records rejected", err=True)
    base = f"http://{settings.api_host}:{settings.api_port}"
    typer.echo(f"ready in {time.monotonic() - started:.0f} s: the web page at {base}/ , the API at {base}/docs")
    _demo_key(settings)
    typer.echo("try (with KEY set to the key above):")
    for example in demo_examples(base):
        typer.echo(f"  {example}")
    if serve_api:
        serve()


def demo_examples(base: str) -> list[str]:
    """Three copy-paste calls that work as printed (Chinese sent URL-encoded by curl itself)."""
    auth = '-H "Authorization: Bearer $KEY"'
    return [
        f"curl -sG {auth} {base}/v1/search --data-urlencode 'q=退款' --data-urlencode 'k=5'",
        f"curl -s {auth} {base}/v1/customers/CUS-0107/insights",
        f"curl -sG {auth} {base}/v1/experts --data-urlencode 'q=printer driver fails after update'",
    ]


def _demo_key(settings: Settings) -> None:
    """The first demo gets an admin key (printed once); later ones say how to make another."""
    from kcrm.security.audit import AuditLog
    from kcrm.security.keys import KeyStore

    store = KeyStore(settings)
    if store.list(include_revoked=False):
        typer.echo("API keys exist (kcrm keys list); make another with: kcrm keys create --name NAME --role admin")
        return
    plain, record = store.create("demo", ["admin"], all_groups=True, created_by=_cli_principal().name)
    AuditLog(settings).record(_cli_principal(), "key.create", target=record.key_id,
                                          detail={"name": "demo", "roles": ["admin"], "all_groups": True})
    typer.echo(f"demo API key (admin, shown once): {plain}")


mine_app = typer.Typer(help="Customer intelligence: association rules, value, churn, cross-sell, segments, "
                                "outcomes of actions.")
app.add_typer(mine_app, name="mine")


@mine_app.callback(invoke_without_command=True)
def mine(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option(help="ISO date-time to mine as of (default: latest order).")] = None,
    horizon_days: Annotated[int, typer.Option(min=7, help="Churn: days without an order that count as churn.")] = 180,
    churn_model: Annotated[str, typer.Option(help="Churn model: logistic or gradient-boosting.")] = "logistic",
    clear: Annotated[bool, typer.Option("--clear", help="Remove every mined fact from the graph and stop.")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the summary here.")] = None,
) -> None:
    """Recompute value tiers, churn risk, cross-sell and segments and write them into the graph (idempotent)."""
    if ctx.invoked_subcommand is not None:
        return

    from kcrm import workflows
    from kcrm.kg.mining.pipeline import MiningConfig

    settings = _settings()
    when = _as_of(as_of)
    with _exits_on():
        config = MiningConfig(as_of=when, churn_horizon_days=horizon_days, churn_model=churn_model)
        summary = workflows.mine_or_clear(settings, config, clear=clear, progress=sys.stderr.isatty())
    _emit(summary, json_out)


@mine_app.command("rules")
def mine_rules_command(
    baskets: Annotated[Path, typer.Option(help="CSV file: one basket per line, items separated by commas.")],
    min_support: Annotated[float, typer.Option(help="Minimum share of baskets holding the whole rule.")] = 0.01,
    min_confidence: Annotated[float, typer.Option(help="Minimum P(consequent | antecedent).")] = 0.5,
    top: Annotated[int, typer.Option(help="How many rules to print, highest lift first.")] = 10,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write every rule to this JSON file.")] = None,
) -> None:
    """Mine association rules from any basket CSV; print the count and the top rules by lift."""
    import time

    from kcrm.kg.mining.baskets import read_baskets
    from kcrm.kg.mining.rules import format_rule, mine_rules, rules_document

    _settings()
    with _exits_on():
        started = time.perf_counter()
        rows = read_baskets(baskets)
        itemsets, rules = mine_rules(rows, min_support, min_confidence)
        took = time.perf_counter() - started
    typer.echo(f"{len(rules)} rules from {itemsets.n_baskets} baskets ({itemsets.n_items} items, "
               f"{len(itemsets.counts)} frequent itemsets) at support >= {min_support:g}, "
               f"confidence >= {min_confidence:g} in {took:.2f} s")
    for rule in rules[:top]:
        typer.echo(format_rule(rule))
    if json_out:
        document = rules_document(itemsets, rules, min_support, min_confidence)
        _emit(document, json_out, echo=False)
        typer.echo(f"{len(rules)} rules written to {json_out}")


@mine_app.command("outcomes")
def mine_outcomes_command(
    as_of: Annotated[Optional[str], typer.Option(help="ISO date-time to measure as of (default: latest order).")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the estimates here.")] = None,
) -> None:
    """Uplift of each kind of action (retention call, cross-sell offer, campaign send) against matched
    customers not acted on, with a 95% interval; written to the graph as OutcomeEstimate nodes."""

    from kcrm import workflows

    settings = _settings()
    when = _as_of(as_of)
    with _exits_on():
        with workflows.open_graph(settings) as graph:
            summary = workflows.mine_outcomes(settings, graph, when)
    _emit(summary, json_out)


@mine_app.command("campaign")
def mine_campaign_command(
    uid: Annotated[str, typer.Argument(help="The campaign's uid, e.g. CMP-0010.")],
    recent_days: Annotated[Optional[int], typer.Option(help="Exclude customers sent the same promotion within "
                                                           "this many days (default KCRM_CAMPAIGN_RECENT_DAYS).")] = None,
    min_received: Annotated[Optional[int], typer.Option(help="Campaigns received before a response rate counts.")] = None,
    low_response_rate: Annotated[Optional[float], typer.Option(help="Response rate below which a customer is a low "
                                                                      "responder.")] = None,
    valuable_tiers: Annotated[Optional[str], typer.Option(help="Comma-separated tiers whose low responders are "
                                                               "flagged for review, not dropped.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide and print; write nothing to the graph.")] = False,
    show: Annotated[int, typer.Option(help="How many decisions of each kind to print.")] = 5,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write every decision to this JSON file.")] = None,
) -> None:
    """Campaign sanity: target a campaign's customers, skip recent repeats, flag valuable low responders."""
    from kcrm import workflows
    from kcrm.kg.mining.campaign_graph import policy_from_settings, target_campaign, write_targets
    from kcrm.ontology.model import load_ontology

    settings = _settings()
    with _exits_on():
        policy = policy_from_settings(settings, recent_days, min_received, low_response_rate, valuable_tiers)
        with workflows.open_graph(settings) as graph:
            result = target_campaign(graph, load_ontology(), uid, policy)
            written = {} if dry_run else write_targets(graph, load_ontology(), result, settings.load_batch_size)
    summary = {**result.summary(), "written": written}
    _emit(summary)
    for decision in ("target", "review", "exclude"):
        for d in [d for d in result.decisions if d.decision == decision][:show]:
            typer.echo(f"{decision:<8}{d.customer:<10}{(d.tier or '-'):<10}{d.reason}")
    if json_out:
        document = {**summary, "decisions": [d.as_dict() for d in result.decisions]}
        _emit(document, json_out, echo=False)
        typer.echo(f"{len(result.decisions)} decisions written to {json_out}")


eval_app = typer.Typer(help="Measure kcrm against public judgments.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("search")
def eval_search(
    dataset: Annotated[Path, typer.Option(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv.")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the figures to this JSON file.")] = None,
    limit_queries: Annotated[Optional[int], typer.Option(min=1, help="Score only the first N judged queries.")] = None,
    split: Annotated[str, typer.Option(help="The qrels split to score.")] = "test",
    tune_on: Annotated[Optional[str], typer.Option(
        help="Another qrels split (e.g. train) whose queries choose fusion weights; adds a hybrid-tuned row.")] = None,
    index_dir: Annotated[Optional[Path], typer.Option(
        help="Keep the built indexes here and reuse them on the next run (default: a temporary directory).")] = None,
    depth: Annotated[int, typer.Option(min=10, max=1000, help="Candidates per retriever (and ranking depth).")] = 100,
    expand: Annotated[bool, typer.Option(
        "--expand", help="Also score bm25+expand and hybrid+expand: the lexical query expanded from the taxonomy.")] = False,
    backend: Annotated[str, typer.Option(help="'local', or 'opensearch' to score the cluster's candidates beside "
                                         "the local ones in the same run (os-* rows).")] = "local",
) -> None:
    """nDCG@10, MRR@10 and Recall@100 of BM25-only, dense-only and hybrid search, in one run."""
    from kcrm.evaluation.search import evaluate_search, load_beir
    from kcrm.search.embedder import make_embedder
    from kcrm.search.service import make_fusion

    settings = _settings()
    if backend not in ("local", "opensearch"):
        _fail(ValueError(f"--backend must be 'local' or 'opensearch', not {backend!r}"))
    with _exits_on():
        data = load_beir(dataset, split=split)
        if backend == "opensearch":
            from kcrm.evaluation.opensearch import evaluate_opensearch

            report = evaluate_opensearch(data, make_embedder(settings), settings, make_fusion(settings), depth=depth,
                                         limit_queries=limit_queries, progress=sys.stderr.isatty())
            typer.echo(report.table())
            typer.echo(f"opensearch - local: {json.dumps(report.config['delta'])}")
            if json_out:
                _emit(report.as_dict(), json_out, echo=False)
            return
        report = evaluate_search(data, make_embedder(settings), fusion=make_fusion(settings), depth=depth,
                                 limit_queries=limit_queries,
                                 tune_split=tune_on, index_dir=index_dir, progress=sys.stderr.isatty(),
                                 expand=expand)
    typer.echo(report.table())
    typer.echo(f"hybrid = {report.config['hybrid']}"
               + (f"; hybrid-tuned = {report.config['tuned_fusion']} (chosen on {report.config['tuned_on']})"
                  if "tuned_fusion" in report.config else ""))
    if json_out:
        _emit(report.as_dict(), json_out, echo=False)
        typer.echo(f"figures written to {json_out}")


@eval_app.command("experts")
def eval_experts(
    dataset: Annotated[Path, typer.Option(help="A folder laid out like expert_finding_forums (posts.jsonl, "
                                               "expert_qrels_solution_author.csv).")],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures to this file.")] = None,
    held_out: Annotated[bool, typer.Option(help="Also hide RESOLVED_BY of 10% of the graph's resolved cases (in "
                                                "memory) and rank experts from their text.")] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the held-out sample.")] = 7,
    rolling: Annotated[bool, typer.Option(help="Also rank each test question from everything posted before it "
                                               "(slower: one history per question).")] = True,
    by_forum: Annotated[bool, typer.Option(help="Re-cut the dataset as one community per forum (each with its "
                                                "own time split and history): a second evaluation set.")] = False,
) -> None:
    """MRR@10 and P@1 of kcrm's expert ranking and the baselines on forum threads, split by time."""
    from kcrm.evaluation.experts import evaluate_forums, format_report

    settings = _settings()
    with _exits_on():
        report = evaluate_forums(dataset, progress=sys.stderr.isatty(), rolling=rolling, by_forum=by_forum)
    if held_out:
        from kcrm import workflows
        from kcrm.evaluation.sample import evaluate_held_out
        from kcrm.search.service import load_search_service

        try:
            with workflows.open_graph(settings) as graph:
                report["held_out"] = evaluate_held_out(graph, load_search_service(settings), seed=seed,
                                                       progress=sys.stderr.isatty())
        except KcrmError as exc:
            report["held_out"] = {"error": str(exc)}
    typer.echo(format_report(report))
    if json_out:
        _emit(report, json_out, echo=False)
        typer.echo(f"figures written to {json_out}")


alerts_app = typer.Typer(help="Alerts: webhook deliveries of subscriptions.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("deliver")
def alerts_deliver() -> None:
    """Retry queued webhook deliveries now, until none is pending or KCRM_ALERTS_DRAIN_S has passed."""
    from kcrm.alerts.service import alert_store, drain_webhooks

    settings = _settings()
    delivered = drain_webhooks(settings)
    _emit({"delivered": delivered, "pending": alert_store(settings).pending_count()}, indent=None)


keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(cli_subscriptions.app, name="subscriptions")


def _cli_principal():
    """Who the audit log says ran a CLI command: the operating-system user."""
    import getpass

    from kcrm.security.access import Principal

    return Principal(key_id="cli", name=f"cli:{getpass.getuser()}", roles=frozenset({"admin"}))


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for, e.g. 'helpdesk-frontend'.")],
    role: Annotated[list[str], typer.Option("--role", help="agent, expert, analyst, admin or app (repeatable).")],
    group: Annotated[Optional[list[str]], typer.Option("--group", help="An access group the key may see "
                                                                       "(repeatable).")] = None,
    all_groups: Annotated[bool, typer.Option("--all-groups", help="See every item whatever its access groups "
                                                                   "(no security trimming).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the key and its facts as JSON.")] = False,
) -> None:
    """Create an API key and print it once; only its SHA-256 digest is stored."""
    from kcrm.security.audit import AuditLog
    from kcrm.security.keys import KeyStore

    settings = _settings()
    who = _cli_principal()
    with _exits_on():
        plain, record = KeyStore(settings).create(name, role, group or [], all_groups=all_groups,
                                                              created_by=who.name)
    AuditLog(settings).record(who, "key.create", target=record.key_id,
                                          detail={"name": record.name, "roles": list(record.roles),
                                                  "groups": list(record.groups), "all_groups": all_groups})
    if json_out:
        _emit(dict(record.as_dict(), key=plain), indent=None)
        return
    typer.echo(plain)
    typer.echo(f"key id {record.key_id}, name {record.name!r}, roles {list(record.roles)}, groups "
               f"{'all' if all_groups else list(record.groups)}; store it now: it cannot be shown again", err=True)


@keys_app.command("list")
def keys_list(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Every key's id, name, roles, groups and whether it is revoked (never the key itself)."""
    from kcrm.security.keys import KeyStore

    settings = _settings()
    for key in KeyStore(settings).list():
        if json_out:
            _emit(key.as_dict(), indent=None)
            continue
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        groups = "all" if key.all_groups else ",".join(key.groups) or "-"
        typer.echo(f"{key.key_id}  {key.name:<24} roles={','.join(key.roles)}  groups={groups}  "
                   f"created {key.created_at} by {key.created_by}  {state}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id `kcrm keys list` shows.")]) -> None:
    """Revoke a key: the server refuses it (401) from the next request on."""
    from kcrm.security.audit import AuditLog
    from kcrm.security.keys import KeyStore

    settings = _settings()
    with _exits_on():
        key = KeyStore(settings).revoke(key_id)
    from kcrm.alerts.admin import remove_owner
    from kcrm.alerts.service import alert_store

    removed = remove_owner(alert_store(settings), key.key_id)  # a revoked key's webhooks stop too
    AuditLog(settings).record(_cli_principal(), "key.revoke", target=key.key_id,
                              detail={"name": key.name, "subscriptions_removed": removed})
    typer.echo(f"revoked {key.key_id} ({key.name}) at {key.revoked_at}; removed {len(removed)} subscriptions")


@app.command("audit")
def audit(
    principal: Annotated[Optional[str], typer.Option(help="A key id or key name.")] = None,
    action: Annotated[Optional[str], typer.Option(help="An action or its prefix, e.g. 'customer.'.")] = None,
    target: Annotated[Optional[str], typer.Option(help="Exactly this target (uid, job id, query).")] = None,
    since: Annotated[Optional[str], typer.Option(help="ISO 8601 date or date-time (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries, newest first.")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Who searched for what, who read which customer, who changed what."""
    from kcrm.security.audit import AuditLog

    settings = _settings()
    for entry in AuditLog(settings).query(principal=principal, action=action, since=since,
                                                      target=target, limit=limit):
        if json_out:
            _emit(entry.__dict__, indent=None)
            continue
        status = f" -> {entry.status}" if entry.status is not None else ""
        typer.echo(f"{entry.at}  {entry.principal} ({entry.key_id})  {entry.action}  {entry.target or '-'}{status}")

@app.command("link")
def link_command() -> None:
    """Link every case and document to the customers, products, policies, rules and employees it names."""
    from kcrm import workflows

    settings = _settings()
    with _exits_on():
        with workflows.open_graph(settings) as graph:
            stats = workflows.link(settings, graph)
    _emit(stats)


@app.command("classify")
def classify_command() -> None:
    """File every case and document under its support topics (CLASSIFIED_AS edges with score and method)."""
    from kcrm import workflows

    settings = _settings()
    with _exits_on():
        with workflows.open_graph(settings) as graph:
            stats = workflows.classify(settings, graph)
    _emit(stats)


@eval_app.command("topics")
def eval_topics(
    held_out: Annotated[float, typer.Option(help="Share of the labelled texts held out.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 42,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures here.")] = None,
) -> None:
    """Topic classification accuracy on held-out cases whose topic is known, against the majority topic."""
    from kcrm import workflows

    settings = _settings()
    with _exits_on():
        with workflows.open_graph(settings) as graph:
            report = workflows.evaluate_topics(settings, graph, held_out, seed)
    _emit(report, json_out)


from kcrm.cli_duplicates import duplicates_app  # noqa: E402  (a sub-app in its own module)

app.add_typer(duplicates_app, name="duplicates")

from kcrm import cli_backup, cli_privacy  # noqa: E402 - registered last, after the helpers they import from here

cli_privacy.register(app)
cli_backup.register(app)


if __name__ == "__main__":
    app()

