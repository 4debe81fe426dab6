"""Picked inputs become a loop's files: a search that proved nothing gives SFT nothing to learn, and says so."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.models import Artifact
from prover.engine.trajectory import SCHEMA
from training.inputs import InputError, loop_files

pytestmark = pytest.mark.django_db


def trajectories_without_proofs(tmp_path) -> Artifact:
    path = tmp_path / "nothing-proved.parquet"
    pq.write_table(pa.Table.from_pylist([], schema=SCHEMA), path)
    return Artifact.objects.create(kind=Artifact.Kind.TRAJECTORIES, name="search", path=str(path))


def test_a_search_that_proved_nothing_adds_no_sft_file_but_keeps_the_other_data(tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text(json.dumps({"name": "t", "state_before": "⊢ True", "tactic": "trivial"}) + "\n", encoding="utf-8")
    seed_data = Artifact.objects.create(kind=Artifact.Kind.SFT_DATA, name="seed", path=str(seed))
    empty = trajectories_without_proofs(tmp_path)
    files = loop_files("sft", [seed_data, empty])
    assert files["data_files"] == [str(seed)]
    assert loop_files("joint", [seed_data, empty])["trajectory_files"] == [empty.path]


def test_only_searches_that_proved_nothing_is_a_clear_error(tmp_path):
    empty = trajectories_without_proofs(tmp_path)
    with pytest.raises(InputError, match=f"{empty.pk}.*proved nothing"):
        loop_files("sft", [empty])
