"""What a training run trains on, picked as artifacts (a search run's trajectories, SFT data) and turned into the
loop's file settings here, so nobody types a path on a worker.

A trajectories artifact gives the EBM and joint loops their `trajectory_files`, and the SFT and joint loops the
proof paths it holds (the (state, tactic) steps of every proof found), exported once next to it.
"""

import json
from pathlib import Path

from jobs.models import Artifact
from prover.engine.trajectory import proof_path_records

# loop kind -> (artifact kinds it accepts as inputs)
ACCEPTS = {
    "sft": (Artifact.Kind.TRAJECTORIES, Artifact.Kind.SFT_DATA),
    "joint": (Artifact.Kind.TRAJECTORIES, Artifact.Kind.SFT_DATA),
    "ebm": (Artifact.Kind.TRAJECTORIES,),
    "probes": (Artifact.Kind.TRAJECTORIES,),  # a probe set is built from the first trajectories
}


class InputError(ValueError):
    pass


def proof_paths_file(trajectories: Artifact) -> Path:
    """The SFT records of a trajectories artifact's proofs (written once, atomically, beside the file)."""
    target = Path(trajectories.path).with_suffix(".proof-paths.jsonl")
    if not target.exists():
        records = proof_path_records([trajectories.path])
        partial = target.with_suffix(".tmp")
        partial.write_text("".join(json.dumps({"name": r["theorem"], "state_before": r["state"], "tactic": r["tactic"]},
                                              ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        partial.replace(target)
    return target


def loop_files(kind: str, inputs: list[Artifact]) -> dict[str, list[str]]:
    """The loop's file settings for `inputs`; InputError names an artifact the loop cannot train on."""
    accepted = ACCEPTS.get(kind, ())
    for artifact in inputs:
        if artifact.kind not in accepted:
            raise InputError(f"artifact {artifact.pk} ({artifact.kind}) is not something a {kind} run trains on; "
                             f"it takes {', '.join(accepted) or 'no inputs'}")
    trajectories = [a for a in inputs if a.kind == Artifact.Kind.TRAJECTORIES]
    files: dict[str, list[str]] = {}
    if kind in ("sft", "joint"):
        # A search that proved nothing leaves no proof path to learn from: its (empty) file is left out rather
        # than failing the run, so an iteration whose search found no proof still trains on its other data.
        proof_paths = [path for path in map(proof_paths_file, trajectories) if path.stat().st_size > 0]
        files["data_files"] = [a.path for a in inputs if a.kind == Artifact.Kind.SFT_DATA] + list(map(str, proof_paths))
        if inputs and not files["data_files"]:
            raise InputError(f"none of the picked artifacts ({', '.join(str(a.pk) for a in inputs)}) holds a proof "
                             f"to train a {kind} run on: their searches proved nothing")
    if kind in ("ebm", "joint", "probes") and trajectories:
        files["trajectory_files"] = [a.path for a in trajectories]
    return files
