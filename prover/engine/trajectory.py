"""Trajectory records: one Parquet file per search run, BurnQED's 14 columns plus what training needs.

The format is in docs/data.md#trajectory-files. One row per proof state reached (root, states, verified
terminals), keyed by the node's stable id within its theorem (never the Lean state id, which is local to one
process). Labels: when the theorem was proved, the primary-parent path from the FIRST verified terminal back
to the root is positive with `remaining_depth` counting down to 0 at the terminal; every other row is negative
with −1. An unproved theorem's rows are all negative.

Extra columns, beyond BurnQED's: `root_state_pp` (the goal a goal-conditioned EBM is trained
against), `energy`, `num_goals`, `node_status`, `expansion_order`, `created_ms` (per-node time: BurnQED's
timestamp is one per theorem), `source`, `extra_parent_ids` (DAG merge edges), `strategy`, `theorem_proved`.

Rejected terminals (the whole-proof re-check said no) and failed tactics have no state and are not
written. Errored and cancelled searches are not written either, so that a resumed run retries them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from prover.engine.result import FailureReason, SearchResult
from prover.engine.tree import NodeKind, NodeStatus

SCHEMA = pa.schema([
    pa.field("theorem_name", pa.string(), nullable=False),
    pa.field("state_id", pa.uint64(), nullable=False),
    pa.field("state_pp", pa.string(), nullable=False),
    pa.field("tactic_applied", pa.string(), nullable=False),
    pa.field("parent_state_id", pa.uint64(), nullable=True),
    pa.field("label", pa.string(), nullable=False),
    pa.field("depth_from_root", pa.uint32(), nullable=False),
    pa.field("remaining_depth", pa.int32(), nullable=False),
    pa.field("llm_log_prob", pa.float64(), nullable=False),
    pa.field("ebm_score", pa.float64(), nullable=False),
    pa.field("is_proof_complete", pa.bool_(), nullable=False),
    pa.field("timestamp_ms", pa.uint64(), nullable=False),
    pa.field("q_value", pa.float64(), nullable=False),
    pa.field("visits", pa.uint32(), nullable=False),
    # beyond BurnQED's columns
    pa.field("root_state_pp", pa.string(), nullable=False),
    pa.field("energy", pa.float64(), nullable=True),
    pa.field("num_goals", pa.uint32(), nullable=False),
    pa.field("node_status", pa.string(), nullable=False),
    pa.field("expansion_order", pa.int32(), nullable=True),
    pa.field("created_ms", pa.float64(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("extra_parent_ids", pa.list_(pa.uint64()), nullable=False),
    pa.field("strategy", pa.string(), nullable=False),
    pa.field("theorem_proved", pa.bool_(), nullable=False),
])

WRITTEN_REASONS = frozenset(FailureReason) - {FailureReason.ERROR, FailureReason.CANCELLED}


class TrajectoryError(ValueError):
    pass


def write_atomically(path: Path, write) -> None:
    """`write(tmp)` then rename over `path`: a reader sees the old file or the new one, never half of one. When
    the write fails (the disk is full) the old file stays as it was, the partial temp file is removed so it
    does not hold the space, and the error names the file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, f"writing {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def records_for(result: SearchResult, *, timestamp_ms: int | None = None) -> list[dict[str, Any]]:
    """The labelled rows of one search result (docs/data.md#trajectory-files)."""
    tree = result.tree
    if len(tree) == 0:
        return []
    stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    remaining: dict[int, int] = {}
    if result.proved and result.terminal_node_id is not None:
        path = tree.primary_path(result.terminal_node_id)
        remaining = {node_id: len(path) - 1 - i for i, node_id in enumerate(path)}
    q_values = result.q_values
    root_pp = tree.root.state_text
    rows: list[dict[str, Any]] = []
    for node in tree:
        if node.kind is NodeKind.FAILED_TACTIC:
            continue
        if node.kind is NodeKind.TERMINAL and node.status is not NodeStatus.PROVED:
            continue
        q, visits = q_values.get(node.id, (0.0, 0))
        on_path = node.id in remaining
        rows.append({
            "theorem_name": result.theorem_name,
            "state_id": node.id,
            "state_pp": node.state_text,
            "tactic_applied": node.tactic,
            "parent_state_id": node.parent_id,
            "label": "positive" if on_path else "negative",
            "depth_from_root": node.depth,
            "remaining_depth": remaining.get(node.id, -1),
            "llm_log_prob": node.log_prob,
            "ebm_score": node.ebm_score,
            "is_proof_complete": node.kind is NodeKind.TERMINAL,
            "timestamp_ms": stamp,
            "q_value": q,
            "visits": visits,
            "root_state_pp": root_pp,
            "energy": node.energy,
            "num_goals": len(node.goals),
            "node_status": node.status.value,
            "expansion_order": node.expansion_order,
            "created_ms": node.created_ms,
            "source": node.source,
            "extra_parent_ids": node.parent_ids[1:],
            "strategy": result.strategy,
            "theorem_proved": result.proved,
        })
    return rows


def read_trajectories(path: str | os.PathLike) -> pa.Table:
    """Read a trajectory file; missing optional columns (q_value, visits, the extras) get defaults."""
    path = Path(path)
    if not path.exists():
        raise TrajectoryError(f"{path}: no such trajectory file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TrajectoryError(f"{path}: not a readable Parquet file ({exc})") from None
    missing_required = [f.name for f in SCHEMA if f.name not in table.column_names and f.name in _REQUIRED]
    if missing_required:
        raise TrajectoryError(f"{path}: missing required column(s) {missing_required}")
    for f in SCHEMA:
        if f.name not in table.column_names:
            table = table.append_column(f, pa.nulls(len(table), f.type) if f.nullable else
                                        pa.array([_DEFAULTS[f.name]] * len(table), f.type))
    return table.select([f.name for f in SCHEMA])


_REQUIRED = frozenset(SCHEMA.names[:12])
_DEFAULTS: dict[str, Any] = {"q_value": 0.0, "visits": 0, "root_state_pp": "", "num_goals": 0,
                             "node_status": "", "created_ms": 0.0, "source": "", "extra_parent_ids": [],
                             "strategy": "", "theorem_proved": False}


def read_theorem_names(path: str | os.PathLike) -> set[str]:
    if not Path(path).exists():
        return set()
    return set(read_trajectories(path).column("theorem_name").to_pylist())


def summarize(path: str | os.PathLike) -> dict[str, int]:
    """BurnQED's read_summary: totals, label counts, theorems, proved theorems."""
    table = read_trajectories(path)
    names = table.column("theorem_name").to_pylist()
    labels = table.column("label").to_pylist()
    complete = table.column("is_proof_complete").to_pylist()
    return {
        "records": len(names),
        "positive": labels.count("positive"),
        "negative": labels.count("negative"),
        "theorems": len(set(names)),
        "proved_theorems": len({n for n, c in zip(names, complete, strict=True) if c}),
    }


class TrajectoryWriter:
    """Buffers results and rewrites the file atomically (temp + rename) every `flush_every` theorems.

    Opening an existing file resumes it: `done` holds the theorem names already written, which a run
    skips; the old rows are kept.
    """

    def __init__(self, path: str | os.PathLike, *, flush_every: int = 10) -> None:
        if flush_every < 1:
            raise ValueError(f"flush_every must be >= 1, got {flush_every}")
        self.path = Path(path)
        self.flush_every = flush_every
        self._tables: list[pa.Table] = []
        self._pending: list[dict[str, Any]] = []
        self._pending_theorems = 0
        self.done: set[str] = set()
        if self.path.exists():
            existing = read_trajectories(self.path)
            self._tables.append(existing)
            self.done = set(existing.column("theorem_name").to_pylist())

    def add(self, result: SearchResult, **kwargs: Any) -> bool:
        """Queue one result's rows; False (nothing written) for errored or cancelled searches."""
        if result.failure_reason not in WRITTEN_REASONS:
            return False
        if result.theorem_name in self.done:
            raise TrajectoryError(f"{self.path}: theorem {result.theorem_name!r} is already in this file")
        self._pending.extend(records_for(result, **kwargs))
        self.done.add(result.theorem_name)
        self._pending_theorems += 1
        if self._pending_theorems >= self.flush_every:
            self.flush()
        return True

    def flush(self) -> None:
        if self._pending:
            self._tables.append(pa.Table.from_pylist(self._pending, schema=SCHEMA))
            self._pending = []
        self._pending_theorems = 0
        if not self._tables:
            return
        table = pa.concat_tables(self._tables) if len(self._tables) > 1 else self._tables[0]
        self._tables = [table]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, lambda tmp: pq.write_table(table, tmp, row_group_size=max(1, len(table))))

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_trajectories(path: str | os.PathLike, results: Iterable[SearchResult]) -> int:
    """Write `results` to a fresh or resumed file; returns how many theorems were written."""
    written = 0
    with TrajectoryWriter(path) as writer:
        for result in results:
            written += writer.add(result)
    return written


def proof_path_records(paths: Iterable[str | os.PathLike], *, min_steps: int = 1) -> list[dict[str, Any]]:
    """BurnQED's `export-proof-paths`: the (state, tactic) steps of every proof, for SFT.

    For each proved theorem (the first file that proves it wins), its positive rows with a tactic, in
    depth order; each step's state is the PARENT's state (the state the tactic was applied to) and its
    depth is the parent's. Theorems with fewer than `min_steps` steps are left out.
    """
    out: list[dict[str, Any]] = []
    done: set[str] = set()
    for path in paths:
        rows = read_trajectories(path).to_pylist()
        by_theorem: dict[str, dict[int, dict[str, Any]]] = {}
        for row in rows:
            by_theorem.setdefault(row["theorem_name"], {})[row["state_id"]] = row
        for name, nodes in by_theorem.items():
            if name in done or not any(r["is_proof_complete"] and r["label"] == "positive" for r in nodes.values()):
                continue
            steps = sorted((r for r in nodes.values() if r["label"] == "positive" and r["tactic_applied"]),
                           key=lambda r: r["depth_from_root"])
            if len(steps) < min_steps:
                continue
            done.add(name)
            for r in steps:
                parent = nodes.get(r["parent_state_id"])
                if parent is None:
                    raise TrajectoryError(f"{path}: theorem {name!r} row {r['state_id']} has no parent row")
                out.append({"state": parent["state_pp"], "tactic": r["tactic_applied"], "theorem": name,
                            "depth": r["depth_from_root"] - 1})
    return out
