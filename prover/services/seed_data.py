"""Seed data from a dataset's released proofs: each proof traced through the verifier into (state, tactic) steps
(theorem_data.tracing), written as one SFT data file and registered as an `sft_data` artifact, with what failed
to replay and why in its meta."""

import asyncio
import hashlib
import json

from django.conf import settings

from jobs.errors import ServiceError
from jobs.models import Artifact
from prover.engine.adapters import StackSettings, open_verifier
from theorem_data.tracing import TraceReport, proof_tactics, trace_proofs

from ..models import Dataset, KnownProof


def trace_dataset_proofs(*, dataset: Dataset, exclude_names: set[str] = frozenset(), lean: str = "minilean",
                         workers: int = 1, name: str = "") -> tuple[Artifact, TraceReport]:
    """Trace every known proof of `dataset` (not of `exclude_names`: e.g. held-out theorems), write the steps of
    those that replay as SFT data, and register the file; the report says what did not replay and why."""
    proofs = [(p.theorem.name, p.theorem.statement, proof_tactics(p.proof, p.tactics))
              for p in KnownProof.objects.filter(theorem__dataset=dataset).select_related("theorem").order_by(
                  "theorem__name", "pk") if p.theorem.name not in exclude_names]
    if not proofs:
        raise ServiceError(f'dataset "{dataset.name}" has no known proofs to trace', field="dataset")

    async def run() -> TraceReport:
        async with open_verifier(StackSettings(lean=lean, num_workers=workers,
                                               pantograph_repl=settings.BURNQED_PANTOGRAPH_REPL)) as verifier:
            return await trace_proofs(verifier, proofs)

    report = asyncio.run(run())
    lines = "".join(json.dumps({"name": s.theorem, "state_before": s.state, "tactic": s.tactic, "depth": s.depth},
                               ensure_ascii=False) + "\n" for s in report.steps)
    digest = hashlib.sha256(lines.encode()).hexdigest()[:12]
    target = settings.BURNQED_CHECKPOINT_DIR.parent / "sft_data" / f"{dataset.name}-traced-{lean}-{digest}.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    partial.write_text(lines, encoding="utf-8")
    partial.replace(target)
    proved = sum(t.proved for t in report.traces)
    artifact, _ = Artifact.objects.update_or_create(path=str(target), defaults={
        "kind": Artifact.Kind.SFT_DATA, "name": name or f"{dataset.name} proofs traced through {lean}",
        "meta": {"dataset": dataset.name, "verifier": lean, "proofs": len(report.traces), "replayed": proved,
                 "theorems": len({s.theorem for s in report.steps}), "steps": len(report.steps),
                 "excluded_names": len(exclude_names),
                 "failures_by_reason": dict(report.failures_by_reason().most_common(30)),
                 "failures_by_tactic": dict(report.failures_by_tactic().most_common(30))}})
    return artifact, report
