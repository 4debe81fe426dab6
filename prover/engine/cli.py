"""`python -m prover search|eval|compare|summary|export-proof-paths`: the engine from a terminal, with progress bars. No Django.

    python -m prover search --theorems data/benchmarks/minif2f_valid.json --output runs/valid.parquet \
        --strategy hybrid --policy-url http://127.0.0.1:30000
    python -m prover eval --theorems ... --output results.json --budget-kind rounds --budgets 1,5,30
    python -m prover compare a.json b.json [--tokens 50000]
    python -m prover summary --input runs/valid.parquet
    python -m prover export-proof-paths runs/*.parquet --output sft.jsonl

Search settings come from the strategy's defaults (docs/search.md#defaults), then `--config FILE` (TOML or JSON; a
`[search]` table or a flat table), then `--set key=value` pairs. Unknown keys are errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from prover.engine.comparison import compare, format_comparison
from prover.engine.config import STRATEGIES, ConfigError, SearchConfig
from prover.engine.evaluation import (
    BUDGET_KINDS,
    ResultFileError,
    attempts_of,
    format_table,
    iteration_result,
    load_results,
    write_results,
)
from prover.engine.provenance import git_commit
from prover.engine.result import SearchResult, Verdict
from prover.engine.spec import RunSpec, SpecError
from prover.engine.trajectory import TrajectoryError, TrajectoryWriter, proof_path_records, summarize
from theorem_data.errors import DataFileError
from theorem_data.formats import read_theorem_file

BUDGET_FIELDS = {"rounds": "max_rounds", "completions": "max_completions", "tokens": "max_tokens",
                 "nodes": "max_nodes"}


class UsageError(ValueError):
    pass


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_config(strategy: str | None, config_file: str | None, settings: Sequence[str]) -> SearchConfig:
    values: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        try:
            raw = path.read_text(encoding="utf-8")
            data = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
        except FileNotFoundError:
            raise UsageError(f"--config: no such file {path}") from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"--config {path}: {exc}") from None
        values.update(data.get("search", data) if isinstance(data, dict) else {})
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected key=value")
        values[key.strip()] = _parse_value(value)
    if strategy:  # the flag wins over the file; without either, hybrid
        values["strategy"] = strategy
    values.setdefault("strategy", "hybrid")
    return SearchConfig.from_mapping(values, where=f"search config ({config_file or 'command line'})")


def build_spec(args: argparse.Namespace, config: SearchConfig) -> RunSpec:
    """The command line's flags as the one run spec the service also uses (same fields, same checks)."""
    try:
        return RunSpec.from_mapping({
            "dataset": args.theorems, "search": config.to_dict(), "policy_url": args.policy_url,
            "encoder_url": args.encoder_url or "", "ebm_path": args.ebm_path or "", "prompt_format": args.prompt_format,
            "lean": args.lean, "lean_workers": args.num_workers, "concurrency": args.concurrency,
        })
    except SpecError as exc:
        raise UsageError(str(exc)) from None


async def _run(args: argparse.Namespace, config: SearchConfig, writer: TrajectoryWriter | None) -> list[SearchResult]:
    from prover.engine.chunk import search_chunk

    spec = build_spec(args, config)
    theorems = read_theorem_file(args.theorems, limit=args.max_theorems)
    todo = [t for t in theorems if writer is None or t.name not in writer.done]
    if writer is not None and len(todo) < len(theorems):
        print(f"resuming {writer.path}: {len(theorems) - len(todo)} theorem(s) already done, {len(todo)} to go")
    bar = tqdm(total=len(todo), desc=config.strategy, unit="thm", disable=args.quiet)
    proved = 0

    def on_result(result: SearchResult) -> None:
        nonlocal proved
        proved += result.proved
        bar.update(1)
        bar.set_postfix(proved=proved, last=result.failure_reason.value)

    results = await search_chunk(todo, spec=spec, pantograph_repl=args.pantograph_repl, writer=writer,
                                 on_result=on_result)
    bar.close()
    return results


def _print_summary(results: Sequence[SearchResult], verifier: str) -> None:
    n = len(results)
    if not n:
        print("nothing searched")
        return
    proved = sum(r.proved for r in results)
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    wall = sum(r.wall_time_ms for r in results)
    lean = sum(r.stats.lean_ms for r in results)
    gen = sum(r.stats.generate_ms for r in results)
    ebm = sum(r.stats.ebm_ms for r in results)
    check = sum(r.stats.check_ms for r in results)
    tokens = sum(r.stats.completion_tokens for r in results)
    print(f"verifier: {verifier}{' (stand-in: not Lean results)' if verifier == 'minilean' else ''}")
    print(f"attempted {n}  proved {proved}  failed {n - proved - len(errors)}  errors {len(errors)}")
    print(f"time: wall {wall / 1000:.1f}s  generate {gen / 1000:.1f}s  lean {lean / 1000:.1f}s  "
          f"ebm {ebm / 1000:.1f}s  re-check {check / 1000:.1f}s  other {(wall - gen - lean - ebm - check) / 1000:.1f}s "
          "(summed over theorems)")
    print(f"tokens generated {tokens}  avg nodes {sum(r.nodes_expanded for r in results) / n:.1f}")
    for r in errors[:10]:
        print(f"  error {r.theorem_name}: {r.error}")


def cmd_search(args: argparse.Namespace) -> int:
    config = build_config(args.strategy, args.config, args.set)
    writer = TrajectoryWriter(args.output, flush_every=args.flush_every)
    results = asyncio.run(_run(args, config, writer))
    writer.close()
    _print_summary(results, args.lean)
    print(f"trajectories: {args.output}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    budgets = sorted({int(b) for b in args.budgets.split(",") if b.strip()}) if args.budgets else []
    if not budgets or min(budgets) < 1:
        raise UsageError(f"--budgets {args.budgets!r}: expected comma-separated positive integers")
    config = build_config(args.strategy, args.config, args.set)
    config = config.replace(**{BUDGET_FIELDS[args.budget_kind]: max(budgets)})
    writer = TrajectoryWriter(args.trajectories) if args.trajectories else None
    results = asyncio.run(_run(args, config, writer))
    if writer is not None:
        writer.close()
    total = len(read_theorem_file(args.theorems, limit=args.max_theorems))
    entries = [iteration_result(results, benchmark=Path(args.theorems).stem, total_theorems=total,
                                budget_kind=args.budget_kind, budget=b, llm_path=args.policy_url,
                                ebm_path=args.ebm_path, verifier=args.lean, strategy=config.strategy,
                                config=config.to_dict(), git_commit=git_commit() or None) for b in budgets]
    write_results(args.output, entries)
    _print_summary(results, args.lean)
    for line in format_table(entries, config.strategy):
        print(line)
    print(f"results: {args.output}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = load_results(args.a), load_results(args.b)
    (attempts_a, total_a), (attempts_b, total_b) = attempts_of(a), attempts_of(b)
    allowance = {k: v for k, v in (("tokens", args.tokens), ("nodes", args.nodes)) if v is not None}
    comparison = compare(attempts_a, attempts_b, totals=(total_a, total_b), allowance=allowance)
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2))
        return 0
    for line in format_table(a, "A") + format_table(b, "B") + format_comparison(comparison):
        print(line)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    summary = summarize(args.input)
    if args.json:
        print(json.dumps(summary))
    else:
        print("  ".join(f"{key} {value}" for key, value in summary.items()))
    return 0


def cmd_export_proof_paths(args: argparse.Namespace) -> int:
    records = proof_path_records(args.inputs, min_steps=args.min_steps)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(out)
    print(f"{len(records)} steps of {len({r['theorem'] for r in records})} proofs -> {out}")
    return 0


def _add_stack_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--theorems", required=True, help='a theorem file in any importable format, e.g. benchmark JSON '
                   '{"theorems": [{"name", "statement"}]}')
    p.add_argument("--strategy", choices=STRATEGIES, help="default: the config file's, else hybrid")
    p.add_argument("--config", help="TOML or JSON search settings (a [search] table or flat)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one setting")
    p.add_argument("--policy-url", default="http://127.0.0.1:30000", help="SGLang-compatible /generate server")
    p.add_argument("--encoder-url", help="/encode server for the EBM (needed with --ebm-path)")
    p.add_argument("--ebm-path", help="energy head checkpoint directory; omit for LLM-only search")
    p.add_argument("--lean", choices=("minilean", "pantograph"), default="minilean")
    p.add_argument("--num-workers", type=int, default=2, help="verifier processes")
    p.add_argument("--concurrency", type=int, default=2, help="theorems searched at once (<= workers)")
    p.add_argument("--max-theorems", type=int)
    p.add_argument("--prompt-format", default="deepseek-prover")
    p.add_argument("--pantograph-repl", default="pantograph-repl", help="the REPL program, with --lean pantograph")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m prover", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search", help="search a theorem file and write trajectories (resumable)")
    _add_stack_arguments(search)
    search.add_argument("--output", required=True, help="trajectory Parquet file (resumed if it exists)")
    search.add_argument("--flush-every", type=int, default=10, help="rewrite the file every N theorems")
    search.set_defaults(func=cmd_search)
    ev = sub.add_parser("eval", help="evaluate at several budgets and write the result JSON")
    _add_stack_arguments(ev)
    ev.add_argument("--output", required=True, help="result JSON file")
    ev.add_argument("--budget-kind", choices=BUDGET_KINDS, default="rounds")
    ev.add_argument("--budgets", required=True, help="comma-separated budgets, e.g. 1,5,30")
    ev.add_argument("--trajectories", help="also write trajectories here")
    ev.set_defaults(func=cmd_eval)
    cmp = sub.add_parser("compare", help="compare two result files at equal tokens")
    cmp.add_argument("a")
    cmp.add_argument("b")
    cmp.add_argument("--tokens", type=int, help="per-theorem token allowance (default: the smaller max spend)")
    cmp.add_argument("--nodes", type=int, help="per-theorem node allowance (default: the smaller max spend)")
    cmp.add_argument("--json", action="store_true")
    cmp.set_defaults(func=cmd_compare)
    summary = sub.add_parser("summary", help="counts of a trajectory file")
    summary.add_argument("--input", required=True)
    summary.add_argument("--json", action="store_true")
    summary.set_defaults(func=cmd_summary)
    export = sub.add_parser("export-proof-paths", help="proof steps of trajectory files as SFT JSONL")
    export.add_argument("inputs", nargs="+", help="trajectory files; the first to prove a theorem wins")
    export.add_argument("--output", required=True, help='JSONL of {"state", "tactic", "theorem", "depth"}')
    export.add_argument("--min-steps", type=int, default=1)
    export.set_defaults(func=cmd_export_proof_paths)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ConfigError, DataFileError, TrajectoryError, ResultFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
