"""Evaluation results (BurnQED's IterationResult fields) at several budgets, and comparing two result files.

Budgets are read off ONE search per theorem at the largest budget: budgets are only checked between
rounds and never change which node is expanded next, so the search under a smaller budget is exactly a
prefix of the larger one (up to wall-clock timeouts). A theorem counts as proved at budget b when its
proof was found having spent at most b. The denominator is always the benchmark size, and errors are
counted and listed (docs/evaluation.md#denominators).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prover.engine.comparison import Attempt
from prover.engine.result import FailureReason, SearchResult

BUDGET_KINDS = ("rounds", "completions", "tokens", "nodes")
RESULT_FORMAT = "burnqed-eval/1"


class ResultFileError(ValueError):
    pass


def _spent_at_proof(result: SearchResult, kind: str) -> int | None:
    u = result.usage
    if u is None:
        return None
    return {"rounds": u.rounds, "completions": u.completions, "tokens": u.completion_tokens,
            "nodes": u.nodes_expanded}[kind]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def per_theorem_at(result: SearchResult, kind: str, budget: int) -> dict[str, Any]:
    spent = _spent_at_proof(result, kind)
    proved = result.proved and spent is not None and spent <= budget
    if proved:
        reason = FailureReason.PROVED.value
    elif result.proved:  # proved, but only after spending more than this budget
        reason = FailureReason.MAX_ROUNDS.value if kind == "rounds" else FailureReason.BUDGET_EXHAUSTED.value
    else:
        reason = result.failure_reason.value
    usage = result.usage if proved else None
    return {
        "name": result.theorem_name,
        "proved": proved,
        "nodes_used": usage.nodes_expanded if usage else result.nodes_expanded,
        "time_secs": (usage.elapsed_ms if usage else result.wall_time_ms) / 1000.0,
        "failure_reason": reason,
        "tokens_used": usage.completion_tokens if usage else result.stats.completion_tokens,
        "tokens_to_proof": result.usage.completion_tokens if result.usage else None,
        "completions": usage.completions if usage else result.stats.completions,
        "proof_tactics": result.proof_tactics if proved else [],
        "error": result.error,
    }


def iteration_result(results: Sequence[SearchResult], *, benchmark: str, total_theorems: int, budget_kind: str,
                     budget: int, llm_path: str, ebm_path: str | None, verifier: str, strategy: str,
                     config: Mapping[str, Any], git_commit: str | None = None,
                     iteration: int | None = None) -> dict[str, Any]:
    if budget_kind not in BUDGET_KINDS:
        raise ValueError(f"budget kind {budget_kind!r} is not one of {list(BUDGET_KINDS)}")
    rows = [per_theorem_at(r, budget_kind, budget) for r in results]
    solved = sum(r["proved"] for r in rows)
    times = [r["time_secs"] for r in rows]
    tokens = sum(r["tokens_used"] for r in rows)
    return {
        "iteration": iteration,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit,
        "llm_path": llm_path,
        "ebm_path": ebm_path,
        "benchmark": benchmark,
        "verifier": verifier,  # "minilean" results are never Lean results
        "strategy": strategy,
        "budget_kind": budget_kind,
        "budget": budget,
        "max_rounds": budget if budget_kind == "rounds" else config.get("max_rounds"),
        "total_theorems": total_theorems,
        "solved": solved,
        "total": total_theorems,
        "rate": solved / total_theorems if total_theorems else 0.0,
        "errors": sum(r["failure_reason"] == FailureReason.ERROR.value for r in rows),
        "not_attempted": total_theorems - len(rows),
        "avg_nodes": sum(r["nodes_used"] for r in rows) / len(rows) if rows else 0.0,
        "avg_time_secs": sum(times) / len(times) if times else 0.0,
        "median_time_secs": median(times),
        "total_tokens": tokens,
        "avg_tokens": tokens / len(rows) if rows else 0.0,
        "tokens_per_proof": tokens / solved if solved else None,
        "config": dict(config),
        "per_theorem": rows,
    }


def write_results(path: str | os.PathLike, entries: Sequence[Mapping[str, Any]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"format": RESULT_FORMAT, "results": list(entries)}, indent=2, ensure_ascii=False),
                   encoding="utf-8")
    os.replace(tmp, path)


def load_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The budget entries of a result file (a bare IterationResult object is accepted as one entry)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFileError(f"{path}: no such result file") from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    entries = data.get("results") if isinstance(data, dict) and "results" in data else [data]
    if not isinstance(entries, list) or not entries:
        raise ResultFileError(f"{path}: expected a non-empty \"results\" list")
    for i, entry in enumerate(entries):
        for key in ("solved", "total", "per_theorem"):
            if not isinstance(entry, dict) or key not in entry:
                raise ResultFileError(f"{path}: results[{i}] has no {key!r}")
    return entries


def attempts_of(entries: Sequence[Mapping[str, Any]]) -> tuple[list[Attempt], int]:
    """The attempts of a result file's largest budget, as the one comparison rule reads them, and its total."""
    top = max(entries, key=lambda e: e.get("budget") or 0)
    attempts = [Attempt(r["name"], bool(r["proved"]), int(r.get("tokens_used") or 0), int(r.get("nodes_used") or 0))
                for r in top["per_theorem"]]
    return attempts, int(top["total"])


def format_table(entries: Sequence[Mapping[str, Any]], label: str) -> list[str]:
    lines = []
    for e in entries:
        lines.append(f"{label:<12} {e.get('budget_kind', 'rounds'):>11}={e.get('budget', e.get('max_rounds'))!s:<7} "
                     f"{e['solved']:>4}/{e['total']:<4} {e['rate']:6.1%}  avg_nodes {e.get('avg_nodes', 0):7.1f}  "
                     f"avg_time {e.get('avg_time_secs', 0):7.2f}s  tokens {e.get('total_tokens', 0)}  "
                     f"errors {e.get('errors', 0)}")
    return lines
