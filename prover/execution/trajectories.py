"""A run's trajectory files: one Parquet file per chunk, merged when the run finishes into the one file that
training reads, which is registered as the run's `trajectories` artifact."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from jobs.models import Artifact
from prover.engine.trajectory import write_atomically


def run_trajectory_dir(run) -> Path:
    """Where the chunks of `run` write; named by the run's key, so a reset database never reuses a folder."""
    return settings.BURNQED_TRAJECTORY_DIR / f"run-{run.pk}-{run.key.hex[:12]}"


def chunk_trajectory_path(run, chunk: int) -> Path:
    return run_trajectory_dir(run) / f"chunk-{chunk:05d}.parquet"


def run_trajectory_path(run) -> Path:
    return run_trajectory_dir(run).with_suffix(".parquet")


def merge_run_trajectories(run) -> Artifact | None:
    """Concatenate the run's chunk files (atomically, temp + rename) and register the result as the run's
    trajectories artifact; None when no chunk wrote any."""
    chunks = sorted(run_trajectory_dir(run).glob("chunk-*.parquet"))
    if not chunks:
        return None
    table = pa.concat_tables([pq.read_table(path) for path in chunks], promote_options="default")
    target = run_trajectory_path(run)
    write_atomically(target, lambda tmp: pq.write_table(table, tmp))
    artifact, _ = Artifact.objects.update_or_create(
        path=str(target), defaults={
            "kind": Artifact.Kind.TRAJECTORIES, "name": f"trajectories of run {run.pk}",
            "producer_kind": run.channel_kind, "producer_id": run.pk,
            "meta": {"rows": table.num_rows, "theorems": len(set(table.column("theorem_name").to_pylist())),
                     "chunks": len(chunks)},
        })
    return artifact
