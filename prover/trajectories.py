"""A run's trajectory file: the chunks' Parquet files merged into one that training reads."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings


def run_trajectory_dir(run) -> Path:
    """Where the chunks of `run` write; named by the run's key, so a reset database never reuses a folder."""
    return settings.BURNQED_TRAJECTORY_DIR / f"run-{run.pk}-{run.key.hex[:12]}"


def run_trajectory_path(run) -> Path:
    return run_trajectory_dir(run).with_suffix(".parquet")


def merge_run_trajectories(run) -> Path | None:
    """Concatenate the run's chunk files (atomically, temp + rename); None when no chunk wrote any."""
    chunks = sorted(run_trajectory_dir(run).glob("chunk-*.parquet"))
    if not chunks:
        return None
    table = pa.concat_tables([pq.read_table(path) for path in chunks], promote_options="default")
    target = run_trajectory_path(run)
    partial = target.with_suffix(".parquet.tmp")
    pq.write_table(table, partial)
    partial.replace(target)
    return target
