"""The embedded benchmark: the statements the stand-in verifier accepts, split by theorem name into training and
held-out parts that are fixed in the repository (data/embedded/), so expert iteration on a laptop never trains on
a held-out name and every report measures the same theorems.

    python -m theorem_data.embedded_benchmark [--workbook-sample 200] [--out data/embedded]

Held out: miniF2F-valid. Training: miniF2F-test, and a seeded sample (by a hash of the name) of the bundled Lean
Workbook statements. A statement counts when the verifier starts a proof of it (minilean refuses, saying why,
what is outside its fragment); the known-wrong miniF2F statements and any training statement whose text is a
held-out one are left out. The files are benchmark JSON, with a summary of what was left out and why.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from prover.engine.adapters import StackSettings, open_verifier
from prover.engine.backends import Verifier, VerifierError

from .formats import read_theorem_file
from .known_issues import known_issue
from .records import TheoremRecord
from .statements import normalise_whitespace

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = (ROOT / "data/benchmarks/minif2f_valid.json",)
TRAINING = (ROOT / "data/benchmarks/minif2f_test.json",)
WORKBOOK = ROOT / "data/workbook/lean_workbook_statements_subset.jsonl"


async def accepted(verifier: Verifier, records: Sequence[TheoremRecord]) -> tuple[list[TheoremRecord], Counter]:
    """The records whose statement the verifier starts a proof of, and the reasons of the others."""
    kept, refused = [], Counter()
    for record in records:
        try:
            async with verifier.open_proof(record.statement):
                kept.append(record)
        except VerifierError as exc:
            reason = re.sub(r"^.*?Lean error '(\w+)': (<stdin>:\d+:\d+: )?", r"\1: ", str(exc).splitlines()[0])
            refused[reason[:70]] += 1
    return kept, refused


def sample_by_name(records: Sequence[TheoremRecord], n: int, salt: str = "embedded-benchmark") -> list[TheoremRecord]:
    """A fixed sample: the n records whose names hash lowest (the same on every machine, whatever the file order)."""
    return sorted(records, key=lambda r: hashlib.sha256(f"{salt}:{r.name}".encode()).hexdigest())[:n]


async def build(workbook_sample: int) -> dict:
    held_out = [r for path in HELD_OUT for r in read_theorem_file(path)]
    training = [r for path in TRAINING for r in read_theorem_file(path)]
    workbook = read_theorem_file(WORKBOOK)
    async with open_verifier(StackSettings(num_workers=1)) as verifier:
        held_out, refused_held_out = await accepted(verifier, held_out)
        training, refused_training = await accepted(verifier, training)
        workbook, refused_workbook = await accepted(verifier, sample_by_name(workbook, 3 * workbook_sample))
    held_out_names = {r.name for r in held_out}
    held_out_texts = {normalise_whitespace(r.statement) for r in held_out}
    dropped = Counter()
    chosen = []
    for record in [*training, *sample_by_name(workbook, workbook_sample)]:
        if known_issue(record.name, record.statement):
            dropped["known-wrong statement"] += 1
        elif record.name in held_out_names or normalise_whitespace(record.statement) in held_out_texts:
            dropped["same name or statement as a held-out theorem"] += 1
        else:
            chosen.append(record)
    held_out = [r for r in held_out if not known_issue(r.name, r.statement)]
    return {
        "held_out": held_out, "training": chosen,
        "summary": {"held_out": len(held_out), "training": len(chosen),
                    "refused_by_verifier": {"held_out": dict(refused_held_out.most_common(10)),
                                            "training": dict(refused_training.most_common(10)),
                                            "workbook_sample": dict(refused_workbook.most_common(10))},
                    "dropped_from_training": dict(dropped)},
    }


def _write(path: Path, records: Sequence[TheoremRecord], description: str) -> None:
    body = {"description": description,
            "theorems": [{"name": r.name, "statement": r.statement, "split": r.split or ""} for r in records]}
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m theorem_data.embedded_benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workbook-sample", type=int, default=200, help="Lean Workbook statements in training")
    parser.add_argument("--out", default=str(ROOT / "data/embedded"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(build(args.workbook_sample))
    _write(out / "heldout.json", result["held_out"], "held out: miniF2F-valid statements minilean accepts")
    _write(out / "train.json", result["training"],
           "training: miniF2F-test and a fixed sample of Lean Workbook statements minilean accepts")
    (out / "summary.json").write_text(json.dumps(result["summary"], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["summary"], indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
