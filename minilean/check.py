"""`python -m minilean --check`: the three figures that say how far minilean can be trusted, from one run.

1. Soundness: the random search of `soundness.py` (random hypotheses and goals over ℕ ℤ ℚ ℝ, the tactic scripts
   a prover proposes, every closed goal checked by z3 or on a grid): problems, scripts, closed goals,
   counterexamples (must be 0).
2. Strength: the bundled real proofs (`data/proofs/*.jsonl`, all accepted by Lean at their version) whose own
   statement minilean elaborates, split into tactics by the project's proof splitter
   (`prover.policy.extraction.extract_proof_tactics`) and replayed one tactic at a time as the hybrid search
   replays them, by source; with the most common failing tactics.
3. Coverage: the share of miniF2F statements (valid and test) that `goal.start` accepts, with the most common
   reasons for a refusal.

Results are minilean's, not Lean's. The bundled proofs were written for Lean 4.9–4.15 Mathlib, so they are
replayed with that era's rules where versions differ (see `Context.mathlib`); how many replays needed such a rule
is reported.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from .elab import ElabError, Elaborator
from .frontend import check_declaration, initial_goal
from .parser import ParseError, parse_term
from .tactics import Context, Interrupted, TacticError, parse_script, run_seq
from .theorems import StatementError, load_theorems

BENCHMARKS = ("data/benchmarks/minif2f_valid.json", "data/benchmarks/minif2f_test.json")


# ------------------------------------------------------------------------------------------------ coverage
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


def coverage(paths: tuple[str, ...] | list[str]) -> tuple[dict[str, tuple[int, int]], Counter]:
    """Per file and split: (statements accepted, statements); and the refusal reasons."""
    per: dict[str, tuple[int, int]] = {}
    reasons: Counter = Counter()
    for path in paths:
        for rec in load_theorems(path):
            ok, why = statement_parses(rec.get("statement"))
            key = f"{Path(path).stem} ({rec['split']})"
            good, total = per.get(key, (0, 0))
            per[key] = (good + ok, total + 1)
            if not ok:
                reasons[why[:72]] += 1
    return per, reasons


# ------------------------------------------------------------------------------------------------ replay
def load_proofs(folder: str | Path) -> list[dict]:
    out = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                rec["_file"] = path.name
                out.append(rec)
    return out


def source_of(record: dict) -> str:
    name = record.get("_file", "")
    return name.removeprefix("minif2f_proofs_").removesuffix(".jsonl") or "unknown"


def mathlib_era(record: dict) -> int:
    """The Mathlib era of a proof record, from its `lean_version` (all bundled ones predate 2025)."""
    version = str(record.get("lean_version", ""))
    if "nightly-2023" in version:
        return 2023
    for minor in range(16, 40):
        if f"v4.{minor}" in version:
            return 2025
    return 2024


def splitter() -> Callable[[str], list[str]] | None:
    """The project's proof splitter, when the prover package is installed alongside minilean."""
    try:
        from prover.policy.extraction import extract_proof_tactics
    except ImportError:
        return None
    return extract_proof_tactics


def replay_split(record: dict, split: Callable[[str], list[str]], solver_ms: int = 3000
                 ) -> tuple[bool | None, str, str, bool]:
    """Replay a proof tactic by tactic, as the hybrid search does: (replayed, or None when the statement is
    outside the fragment; the failing tactic; the message; whether an era-specific rule was needed)."""
    text = record.get("formal_statement", "").rstrip()
    try:
        goal, _ = initial_goal(text + "\n  sorry")
    except (StatementError, ParseError, ElabError, RecursionError):
        return None, "", "", False
    era = mathlib_era(record)
    goals = [goal]
    era_rule = False
    for tactic in split(record.get("proof", "")):
        ctx = Context(solver_ms=solver_ms, mathlib=era)
        try:
            goals = run_seq(parse_script(tactic), goals, ctx)
        except ParseError as exc:
            return False, tactic, f"parse: {exc.message}", era_rule
        except (TacticError, Interrupted) as exc:
            return False, tactic, getattr(exc, "message", "interrupted"), era_rule
        except RecursionError:
            return False, tactic, "recursion", era_rule
        era_rule = era_rule or ctx.era_rule_used
        if ctx.has_sorry:
            return False, tactic, "sorry", era_rule
    if goals:
        return False, "<end>", "unsolved goals at the end of the proof", era_rule
    return True, "", "", era_rule


def replay(record: dict, solver_ms: int) -> bool:
    """Whole-proof replay through the frontend (`frontend.process`'s path)."""
    text = record["formal_statement"].rstrip()
    if not text.endswith("by"):
        return False
    try:
        messages, _, used_sorry = check_declaration(text + "\n" + record["proof"], solver_ms=solver_ms,
                                                    mathlib=mathlib_era(record))
    except RecursionError:
        return False
    return not used_sorry and not any(sev == "error" for sev, _, _ in messages)


def single_tactic(proof: str) -> str | None:
    body = proof.strip()
    if not body or "\n" in body or ";" in body or "<;>" in body:
        return None
    return body.split()[0]


def replay_by_source(folder: str | Path, solver_ms: int = 3000) -> tuple[dict, Counter, int]:
    """{source: [in fragment, replayed]}, failing first words, replays that needed an era rule."""
    split = splitter()
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures: Counter = Counter()
    era_rules = 0
    for rec in load_proofs(folder):
        if split is None:
            try:
                initial_goal(rec.get("formal_statement", "").rstrip() + "\n  sorry")
                ok: bool | None = replay(rec, solver_ms)
            except (StatementError, ParseError, ElabError, RecursionError):
                ok = None
            tactic, used = "", False
        else:
            ok, tactic, _, used = replay_split(rec, split, solver_ms)
        if ok is None:
            continue
        counts = by_source[source_of(rec)]
        counts[0] += 1
        counts[1] += bool(ok)
        era_rules += bool(ok) and used
        if not ok:
            failures[(tactic.split() or ["?"])[0]] += 1
    return dict(by_source), failures, era_rules


# ------------------------------------------------------------------------------------------------ report
def machine_line() -> str:
    import psutil

    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
            f"{platform.system()} {platform.release()}, python {platform.python_version()}")


def run_check(paths: list[str] | None = None, proofs_folder: str = "data/proofs", solver_ms: int = 3000,
              soundness_problems: int = 200, seed: int = 0) -> int:
    from .soundness import search

    started = time.monotonic()
    paths = list(paths or BENCHMARKS)
    print("minilean --check (minilean results, not Lean results)")
    print(machine_line())

    t0 = time.monotonic()
    report = search(soundness_problems, seed=seed)
    print(f"1. {report.lines()[0]}")
    print(f"   {report.lines()[1].strip()}  [{time.monotonic() - t0:.0f} s, seed {seed}]")
    for statement, script, point in report.counterexamples[:5]:
        print(f"   COUNTEREXAMPLE: theorem t {statement} := by {script}  -- false at {point}")

    t0 = time.monotonic()
    by_source, failures, era_rules = replay_by_source(proofs_folder, solver_ms)
    total = sum(v[0] for v in by_source.values())
    done = sum(v[1] for v in by_source.values())
    how = "the project's proof splitter" if splitter() is not None else "whole proofs (prover package missing)"
    print(f"2. real proofs replayed (statement in the fragment, split by {how}): {done}/{total} "
          f"({100 * done / max(1, total):.1f}%)  [{time.monotonic() - t0:.0f} s]")
    for source, (n, k) in sorted(by_source.items()):
        print(f"     {source:20s} {k}/{n} ({100 * k / max(1, n):.1f}%)")
    print(f"   replays in which a rule of the proofs' Lean/Mathlib era applied (norm_num without progress, field_simp "
          f"not cross-multiplying inequalities; 2023: rfl after rw and simp's decide on closed goals): {era_rules}")
    print("   most common failing tactics: " + ", ".join(f"{w} {n}" for w, n in failures.most_common(12)))

    t0 = time.monotonic()
    per, reasons = coverage(paths)
    good = sum(v[0] for v in per.values())
    n_all = sum(v[1] for v in per.values())
    print(f"3. miniF2F statements goal.start accepts: {good}/{n_all} ({100 * good / max(1, n_all):.1f}%)  "
          f"[{time.monotonic() - t0:.0f} s]")
    for key, (k, n) in sorted(per.items()):
        print(f"     {key:32s} {k}/{n} ({100 * k / max(1, n):.1f}%)")
    print("   most common refusals:")
    for why, n in reasons.most_common(8):
        print(f"     {n:4d}  {why}")
    print(f"time: {time.monotonic() - started:.0f} s")
    sys.stdout.flush()
    return 1 if report.counterexamples else 0
