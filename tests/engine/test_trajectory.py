"""Trajectory Parquet files: schema, labels, read-back, atomic resumable writing."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prover.engine.config import SearchConfig
from prover.engine.inprocess import FunctionScorer, ScriptedPolicy
from prover.engine.search import search_theorem
from prover.engine.trajectory import (
    SCHEMA,
    TrajectoryError,
    TrajectoryWriter,
    read_theorem_names,
    read_trajectories,
    summarize,
)
from tests.engine.conftest import INTRO, ROOT, SIMPED, STATEMENT, backends

REFERENCE_COLUMNS = ["theorem_name", "state_id", "state_pp", "tactic_applied", "parent_state_id", "label",
                     "depth_from_root", "remaining_depth", "llm_log_prob", "ebm_score", "is_proof_complete",
                     "timestamp_ms", "q_value", "visits"]


async def _proved(verifier, name="t"):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nsimp\nring", -3.0), ("intro x h\nlinarith", -2.0)]})
    return await search_theorem(name, STATEMENT, config=SearchConfig.for_strategy("hybrid"),
                                backends=backends(verifier, policy, FunctionScorer(len)))


async def _unproved(verifier, name="u"):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nsimp\nring", -3.0)]})
    return await search_theorem(name, STATEMENT, config=SearchConfig.for_strategy("hybrid", max_rounds=1),
                                backends=backends(verifier, policy))


async def test_write_and_read_back_with_labels(tmp_path, verifier):
    path = tmp_path / "run.parquet"
    proved, unproved = await _proved(verifier), await _unproved(verifier)
    with TrajectoryWriter(path) as writer:
        assert writer.add(proved) and writer.add(unproved)
    table = read_trajectories(path)
    assert table.schema.names[:14] == REFERENCE_COLUMNS
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    rows = table.to_pylist()
    t_rows = {r["state_pp"]: r for r in rows if r["theorem_name"] == "t" and not r["is_proof_complete"]}
    terminal = next(r for r in rows if r["theorem_name"] == "t" and r["is_proof_complete"])
    assert t_rows[ROOT]["label"] == "positive" and t_rows[ROOT]["remaining_depth"] == 2
    assert t_rows[ROOT]["parent_state_id"] is None and t_rows[ROOT]["tactic_applied"] == ""
    assert t_rows[INTRO]["label"] == "positive" and t_rows[INTRO]["remaining_depth"] == 1
    assert terminal["label"] == "positive" and terminal["remaining_depth"] == 0 and terminal["state_pp"] == ""
    assert terminal["parent_state_id"] == t_rows[INTRO]["state_id"] and terminal["tactic_applied"] == "linarith"
    assert t_rows[SIMPED]["label"] == "negative" and t_rows[SIMPED]["remaining_depth"] == -1
    # The proving round skips EBM scoring (docs/search.md#value-scores): its new states stay unscored.
    assert t_rows[SIMPED]["energy"] is None and t_rows[SIMPED]["ebm_score"] == 0.0
    assert t_rows[ROOT]["energy"] == float(len(ROOT))
    assert t_rows[INTRO]["visits"] >= 1 and t_rows[INTRO]["q_value"] > 0
    assert t_rows[ROOT]["root_state_pp"] == ROOT and all(r["theorem_proved"] for r in rows if r["theorem_name"] == "t")
    assert len({r["timestamp_ms"] for r in rows if r["theorem_name"] == "t"}) == 1
    assert all(r["label"] == "negative" for r in rows if r["theorem_name"] == "u")
    assert summarize(path) == {"records": len(rows), "positive": 3, "negative": len(rows) - 3, "theorems": 2,
                               "proved_theorems": 1}


async def test_resume_skips_written_theorems_and_keeps_old_rows(tmp_path, verifier):
    path = tmp_path / "run.parquet"
    with TrajectoryWriter(path) as writer:
        writer.add(await _proved(verifier, "a"))
    before = read_trajectories(path).num_rows
    with TrajectoryWriter(path) as writer:
        assert writer.done == {"a"}
        with pytest.raises(TrajectoryError, match="already in this file"):
            writer.add(await _proved(verifier, "a"))
        writer.add(await _unproved(verifier, "b"))
    assert read_theorem_names(path) == {"a", "b"}
    assert read_trajectories(path).num_rows > before
    assert not (tmp_path / "run.parquet.tmp").exists()


async def test_errored_and_cancelled_searches_are_not_written(tmp_path, verifier):
    cancelled = await search_theorem("c", STATEMENT, config=SearchConfig(), backends=backends(
        verifier, ScriptedPolicy()), cancel=lambda: True)
    writer = TrajectoryWriter(tmp_path / "x.parquet")
    assert not writer.add(cancelled)
    assert "c" not in writer.done


async def test_flush_every_rewrites_atomically(tmp_path, verifier):
    path = tmp_path / "run.parquet"
    writer = TrajectoryWriter(path, flush_every=2)
    writer.add(await _proved(verifier, "a"))
    assert not path.exists()
    writer.add(await _proved(verifier, "b"))
    assert read_theorem_names(path) == {"a", "b"}


def test_reader_accepts_old_files_and_rejects_bad_ones(tmp_path):
    old = pa.table({name: pa.array([], SCHEMA.field(name).type) for name in REFERENCE_COLUMNS[:12]})
    pq.write_table(old, tmp_path / "old.parquet")
    table = read_trajectories(tmp_path / "old.parquet")
    assert "q_value" in table.column_names and table.num_rows == 0
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(TrajectoryError, match="junk.parquet: not a readable Parquet file"):
        read_trajectories(tmp_path / "junk.parquet")
    pq.write_table(pa.table({"theorem_name": ["x"]}), tmp_path / "thin.parquet")
    with pytest.raises(TrajectoryError, match="missing required column"):
        read_trajectories(tmp_path / "thin.parquet")
    with pytest.raises(TrajectoryError, match="no such trajectory file"):
        read_trajectories(tmp_path / "absent.parquet")


async def test_export_proof_paths_gives_parent_state_and_tactic_per_step(tmp_path, verifier):
    from prover.engine.trajectory import proof_path_records

    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    with TrajectoryWriter(first) as writer:
        writer.add(await _proved(verifier, "t"))
        writer.add(await _unproved(verifier, "u"))
    with TrajectoryWriter(second) as writer:
        writer.add(await _proved(verifier, "t"))
    steps = proof_path_records([first, second])
    assert steps == [{"state": ROOT, "tactic": "intro x h", "theorem": "t", "depth": 0},
                     {"state": INTRO, "tactic": "linarith", "theorem": "t", "depth": 1}]
    assert proof_path_records([first], min_steps=3) == []


async def test_runner_writes_as_it_goes_and_can_drop_trees(tmp_path, verifier):
    from prover.engine.runner import search_theorems
    from prover.engine.theorems import TheoremStatement as Theorem

    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nlinarith", -1.0)]})
    path = tmp_path / "run.parquet"
    theorems = [Theorem("a", STATEMENT), Theorem("b", STATEMENT), Theorem("c", "∀ (y : ℕ), y = y")]
    with TrajectoryWriter(path) as writer:
        results = await search_theorems(theorems, config=SearchConfig.for_strategy("hybrid"),
                                        backends=backends(verifier, policy), concurrency=2, writer=writer,
                                        keep_trees=False)
    assert [r.theorem_name for r in results] == ["a", "b", "c"]
    assert [r.proved for r in results] == [True, True, False]
    assert all(len(r.tree) == 0 for r in results) and results[0].total_states == 3
    assert results[0].max_depth_reached == 2
    assert read_theorem_names(path) == {"a", "b", "c"}
    with TrajectoryWriter(path) as writer:  # resume: nothing left to do
        assert await search_theorems(theorems, config=SearchConfig(), backends=backends(verifier, policy),
                                     writer=writer) == []
