"""EBM samples from trajectory files: tiers of negatives, goals, the split by theorem name, clear errors."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.training.ebm_helpers import (
    BAD_A1,
    BAD_A2,
    BAD_B,
    DEEP_BAD_A,
    INTRO_A,
    INTRO_B,
    ROOT_A,
    ROOT_B,
    engine_trajectory_file,
    toy_rows,
    write_rows,
)
from theorem_data.splits import is_validation
from training.ebm.samples import SampleConfig, SampleError, build_samples, file_sha256


async def test_samples_from_an_engine_trajectory_file(tmp_path):
    path = await engine_trajectory_file(tmp_path / "run.parquet")
    data = build_samples([path], SampleConfig(negatives_per_positive=4, hard_ratio=0.5, medium_ratio=0.25,
                                              val_fraction=0.0))
    by_positive = {s.positive: s for s in data.train}
    # Positives are the non-terminal proof-path states; the terminals (empty text) are never samples.
    assert set(by_positive) == {ROOT_A, INTRO_A, ROOT_B, INTRO_B}
    assert data.goals == {"thm_a": ROOT_A, "thm_b": ROOT_B}
    intro = by_positive[INTRO_A]
    assert intro.goal == ROOT_A and len(intro.negatives) == 4
    # Hard = the negative siblings (same parent: the root), then the same theorem, then other theorems.
    assert intro.kinds == ("hard", "hard", "medium", "easy")
    assert set(intro.negatives[:2]) == {BAD_A1, BAD_A2}
    assert intro.negatives[2] == DEEP_BAD_A and intro.negatives[3] == BAD_B
    assert by_positive[INTRO_B].negatives[0] == BAD_B and by_positive[INTRO_B].kinds[0] == "hard"
    assert all(t.strip() for s in data.train for t in (s.goal, s.positive, *s.negatives))
    assert "" not in data.texts()
    assert data.files[0]["sha256"] == file_sha256(path) and data.files[0]["rows"] == 10


def test_hard_negatives_are_siblings_and_shortfalls_roll_over(tmp_path):
    path = write_rows(tmp_path / "toy.parquet", toy_rows(12, width=2, depth=3))
    data = build_samples([path], SampleConfig(negatives_per_positive=6, hard_ratio=0.5, medium_ratio=0.3,
                                              val_fraction=0.0))
    for sample in data.train:
        assert len(sample.negatives) == 6 and len(sample.kinds) == 6
        if sample.positive.startswith("good state"):
            prefix = sample.positive.replace("good state", "bad state") + "."
            # Only 2 siblings exist, so 2 hard; the third wanted hard rolls into medium.
            hard = [t for t, k in zip(sample.negatives, sample.kinds, strict=True) if k == "hard"]
            assert len(hard) == 2 and all(t.startswith(prefix) for t in hard)
            medium = [t for t, k in zip(sample.negatives, sample.kinds, strict=True) if k == "medium"]
            theorem = sample.positive.split()[2].split(".")[0]
            assert medium and all(t.split()[2].startswith(theorem + ".") and not t.startswith(prefix) for t in medium)
        easy = [t for t, k in zip(sample.negatives, sample.kinds, strict=True) if k == "easy"]
        assert easy and all(t.split()[2].split(".")[0] != sample.theorem.split("_")[1] for t in easy)


def test_split_is_by_theorem_name_and_stable(tmp_path):
    path = write_rows(tmp_path / "toy.parquet", toy_rows(40))
    config = SampleConfig(val_fraction=0.3)
    data = build_samples([path], config)
    assert set(data.train_theorems).isdisjoint(data.validation_theorems)
    assert data.validation_theorems and data.train_theorems
    assert {s.theorem for s in data.train} <= set(data.train_theorems)
    assert {s.theorem for s in data.validation} <= set(data.validation_theorems)
    assert all(is_validation(n, 0.3) for n in data.validation_theorems)
    assert not any(is_validation(n, 0.3) for n in data.train_theorems)
    # Negatives never cross the split.
    val_texts = {t for s in data.validation for t in (s.positive, *s.negatives)}
    train_texts = {t for s in data.train for t in (s.positive, *s.negatives)}
    assert val_texts.isdisjoint(train_texts)
    # A theorem's side does not depend on what else is in the data.
    more = write_rows(tmp_path / "more.parquet", toy_rows(10, prefix="other"))
    again = build_samples([path, more], config)
    assert set(data.validation_theorems) <= set(again.validation_theorems)
    # Validation decision points carry both labels.
    parents = {c.parent for c in data.rank_children}
    assert parents and all({c.positive for c in data.rank_children if c.parent == p} == {True, False}
                           for p in parents)
    assert {c.parent[1] for c in data.rank_children} <= set(data.validation_theorems)


def test_clear_errors(tmp_path):
    with pytest.raises(SampleError, match="no such trajectory file"):
        build_samples([tmp_path / "missing.parquet"])
    table = pa.Table.from_pylist(toy_rows(2)).drop_columns(["label"])
    pq.write_table(table, tmp_path / "nolabel.parquet")
    with pytest.raises(SampleError, match="label"):
        build_samples([tmp_path / "nolabel.parquet"])
    rows = [dict(r, label="negative") for r in toy_rows(3)]
    with pytest.raises(SampleError, match="no positive"):
        build_samples([write_rows(tmp_path / "unproved.parquet", rows)])
    with pytest.raises(SampleError, match="no trajectory files"):
        build_samples([])
    with pytest.raises(ValueError, match="hard_ratio"):
        SampleConfig(hard_ratio=0.8, medium_ratio=0.5)


def test_a_short_pool_is_padded_with_replacement(tmp_path):
    path = write_rows(tmp_path / "one.parquet", toy_rows(1, width=1, depth=1))
    data = build_samples([path], SampleConfig(negatives_per_positive=4, val_fraction=0.0))
    child = next(s for s in data.train if s.positive.startswith("good"))
    assert child.kinds == ("hard", "pad", "pad", "pad") and set(child.negatives) == {"bad state 0.1.0"}
