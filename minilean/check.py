"""`python -m minilean --check FILE`: how much of a benchmark minilean covers.

Prints, per split, how many statements parse and elaborate, then how many of the bundled known proofs
(`data/proofs/*.jsonl`, matched by theorem name) replay as whole proofs through the frontend path, with
per-tactic counts for single-tactic proofs. Results are minilean's, not Lean's.
"""

from __future__ import annotations

import json
import platform
import time
from collections import Counter, defaultdict
from pathlib import Path

from .elab import ElabError, Elaborator
from .frontend import check_declaration
from .parser import ParseError, parse_term
from .theorems import load_theorems


def statement_parses(statement: str | None) -> tuple[bool, str]:
    if not statement:
        return False, "no statement"
    try:
        Elaborator().prop(parse_term(statement))
        return True, ""
    except ParseError as exc:
        return False, f"parse: {exc.message}"
    except ElabError as exc:
        return False, f"elab: {exc.message.splitlines()[0]}"
    except RecursionError:
        return False, "too deep"


def load_proofs(folder: str | Path) -> list[dict]:
    out = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                rec["_file"] = path.name
                out.append(rec)
    return out


def single_tactic(proof: str) -> str | None:
    body = proof.strip()
    if not body or "\n" in body or ";" in body or "<;>" in body:
        return None
    return body.split()[0]


def replay(record: dict, solver_ms: int) -> bool:
    text = record["formal_statement"].rstrip()
    if not text.endswith("by"):
        return False
    try:
        messages, _, used_sorry = check_declaration(text + "\n" + record["proof"], solver_ms=solver_ms)
    except RecursionError:
        return False
    return not used_sorry and not any(sev == "error" for sev, _, _ in messages)


def run_check(path: str, proofs_folder: str = "data/proofs", solver_ms: int = 5000) -> int:
    started = time.monotonic()
    records = load_theorems(path)
    print(f"minilean coverage of {path} (minilean results, not Lean results)")
    import os

    import psutil

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"{platform.system()} {platform.release()}, python {platform.python_version()}")
    by_split: dict[str, list[bool]] = defaultdict(list)
    parsed_names = set()
    reasons: Counter = Counter()
    for rec in records:
        ok, why = statement_parses(rec.get("statement"))
        by_split[rec["split"]].append(ok)
        if ok:
            parsed_names.add(rec["name"])
        else:
            reasons[why.split(":")[0] + ": " + why.split(":", 1)[-1].strip()[:60]] += 1
    total_ok = sum(sum(v) for v in by_split.values())
    for split, flags in sorted(by_split.items()):
        print(f"  statements parsed, split {split}: {sum(flags)}/{len(flags)} ({100 * sum(flags) / len(flags):.1f}%)")
    print(f"  statements parsed, all: {total_ok}/{len(records)} ({100 * total_ok / max(1, len(records)):.1f}%)")
    print("  most common rejections:")
    for why, n in reasons.most_common(6):
        print(f"    {n:4d}  {why}")
    names = {r["name"].lower() for r in records}
    proofs = [p for p in load_proofs(proofs_folder) if p["name"].lower() in names]
    in_fragment = [p for p in proofs if p["name"] in parsed_names or p["name"].lower() in
                   {n.lower() for n in parsed_names}]
    replayed = 0
    per_tactic: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in in_fragment:
        ok = replay(p, solver_ms)
        replayed += ok
        tac = single_tactic(p["proof"])
        if tac is not None:
            per_tactic[tac][0] += 1
            per_tactic[tac][1] += ok
    print(f"  known proofs matched by name: {len(proofs)}; of those, statement in the fragment: {len(in_fragment)}")
    print(f"  known proofs replayed (statement in fragment): {replayed}/{len(in_fragment)}"
          f" ({100 * replayed / max(1, len(in_fragment)):.1f}%)")
    singles = sum(v[0] for v in per_tactic.values())
    single_ok = sum(v[1] for v in per_tactic.values())
    print(f"  single-tactic proofs replayed: {single_ok}/{singles}")
    for tac, (n, ok) in sorted(per_tactic.items(), key=lambda kv: -kv[1][0]):
        print(f"    {tac:16s} {ok}/{n}")
    print(f"  time: {time.monotonic() - started:.1f} s")
    return 0
