"""Seed SFT data for the embedded benchmark: the bundled real proofs (data/proofs/) and step-by-step tactic
traces (data/tactic_pairs/) of *training* theorems, replayed through the stand-in verifier into (state, tactic)
steps in the search's own state format, with a count of what did not replay and why.

    python -m theorem_data.embedded_seed [--benchmark data/embedded] [--workers 2]

Only names in the benchmark's training file are traced, and a held-out name is refused even if a data file
lists it under another split: seed SFT data must never teach a held-out theorem. Each proof is replayed against
the benchmark's training statement, the very goal the search starts from (a proof file's own copy of the
statement is sometimes of another miniF2F revision that the stand-in verifier does not parse). The first proof of a theorem that replays is its seed data (as `trace_proofs` does).

Writes `seed_sft.jsonl` (one step a line: name, state_before, tactic, depth; what `training.sft` reads) and
`seed_report.json` (counts, failures by first tactic word and by reason) next to the benchmark files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from prover.engine.adapters import StackSettings, open_verifier

from .formats import read_theorem_file
from .statements import binder_names, declaration_parts
from .tracing import TraceReport, proof_tactics, trace_proofs

ROOT = Path(__file__).resolve().parents[1]
PROOFS = ROOT / "data/proofs"
TACTIC_PAIRS = ROOT / "data/tactic_pairs"

Proof = tuple[str, str, list[str]]  # theorem name, statement, tactics


def with_intro(names: list[str] | None, tactics: list[str]) -> list[str]:
    """A search starts at the closed `∀ binders, type` goal, while a released proof starts with the binders in
    context: the replay introduces them first, under their own names, as the search would have to."""
    return [f"intro {' '.join(names)}", *tactics] if names else tactics


def declared_names(formal_statement: str) -> list[str] | None:
    try:
        return binder_names(declaration_parts(formal_statement)[1])
    except ValueError:
        return None


def context_names(state: str) -> list[str]:
    """The hypothesis names of a pretty-printed goal (`x y : ℝ` / `h₀ : 0 < x` lines before `⊢`)."""
    names: list[str] = []
    for line in state.split("⊢", 1)[0].splitlines():
        if " : " in line:
            names += line.split(" : ", 1)[0].split()
    return names


def benchmark_names(folder: Path) -> tuple[dict[str, str], set[str]]:
    """{training name: statement} and the held-out names of an embedded benchmark folder."""
    def load(name: str) -> list[dict]:
        return json.loads((folder / name).read_text(encoding="utf-8"))["theorems"]
    return {t["name"]: t["statement"] for t in load("train.json")}, {t["name"] for t in load("heldout.json")}


def released_proofs(training: dict[str, str], held_out: set[str], proofs: Path = PROOFS,
                    tactic_pairs: Path = TACTIC_PAIRS) -> tuple[list[Proof], dict[str, int]]:
    """The proofs of training theorems, in a fixed order (file name, then line), and what was left out."""
    chosen: list[Proof] = []
    left_out = {"held-out name": 0, "not a training theorem": 0}

    def keep(name: str) -> bool:
        if name in held_out:
            left_out["held-out name"] += 1
        elif name not in training:
            left_out["not a training theorem"] += 1
        else:
            return True
        return False

    for path in sorted(proofs.glob("*.jsonl")):
        for record in read_theorem_file(path):
            for proof in record.proofs:
                if keep(record.name):
                    tactics = proof_tactics(proof.proof, proof.tactics)
                    chosen.append((record.name, training[record.name], with_intro(declared_names(record.formal_statement),
                                                                             tactics)))
    for path in sorted(tactic_pairs.glob("*.jsonl")):
        steps: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                steps[row["name"]].append((int(row["step"]), row["tactic"], row.get("state_before") or ""))
        for name, rows in steps.items():
            if keep(name):
                rows.sort()
                chosen.append((name, training[name], with_intro(context_names(rows[0][2]), [t for _, t, _ in rows])))
    return chosen, left_out


async def trace_in_parallel(proofs: Sequence[Proof], workers: int) -> TraceReport:
    """`trace_proofs` over `workers` verifier processes: theorems are dealt out whole, so the first-proof rule
    holds, and the traces come back in the input's theorem order."""
    by_theorem: dict[str, list[Proof]] = defaultdict(list)
    for proof in proofs:
        by_theorem[proof[0]].append(proof)
    names = list(by_theorem)
    shares = [[p for name in names[i::workers] for p in by_theorem[name]] for i in range(workers)]
    async with open_verifier(StackSettings(num_workers=workers)) as verifier:
        reports = await asyncio.gather(*(trace_proofs(verifier, share) for share in shares))
    order = {name: i for i, name in enumerate(names)}
    merged = TraceReport()
    merged.traces = sorted((t for r in reports for t in r.traces), key=lambda t: order[t.theorem])
    return merged


def write_seed(folder: Path, report: TraceReport, left_out: dict[str, int]) -> dict:
    lines = "".join(json.dumps({"name": s.theorem, "state_before": s.state, "tactic": s.tactic, "depth": s.depth},
                               ensure_ascii=False) + "\n" for s in report.steps)
    (folder / "seed_sft.jsonl").write_text(lines, encoding="utf-8")
    summary = {
        "verifier": "minilean",
        "proofs_traced": len(report.traces),
        "theorems_tried": len({t.theorem for t in report.traces}),
        "proofs_replayed": sum(t.proved for t in report.traces),
        "theorems_with_seed_data": len({s.theorem for s in report.steps}),
        "steps": len(report.steps),
        "left_out": left_out,
        "failures_by_first_tactic_word": dict(report.failures_by_tactic().most_common()),
        "failures_by_reason": dict(report.failures_by_reason().most_common(25)),
    }
    (folder / "seed_report.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m theorem_data.embedded_seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default=str(ROOT / "data/embedded"), help="folder with train.json, heldout.json")
    parser.add_argument("--workers", type=int, default=2, help="minilean processes")
    args = parser.parse_args(argv)
    folder = Path(args.benchmark)
    training, held_out = benchmark_names(folder)
    proofs, left_out = released_proofs(training, held_out)
    report = asyncio.run(trace_in_parallel(proofs, max(1, args.workers)))
    print(json.dumps(write_seed(folder, report, left_out), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
