"""Coverage of miniF2F statements and replay of known single-tactic proofs, measured in-process for speed.

At least 60% of each split must elaborate (arithmetic, functions with hypotheses about them, sums and products
over concrete Finset ranges, gcd/lcm/factorial/primes, real powers); everything else must be rejected with a
ParseError or ElabError, never another exception. Known single-tactic proofs of statements in the fragment must
mostly replay; the measured rates are printed (run pytest with -s to see them).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from minilean.check import load_proofs, replay, single_tactic
from minilean.elab import ElabError, Elaborator
from minilean.parser import ParseError, parse_term
from minilean.theorems import load_theorems

REPO = Path(__file__).resolve().parents[2]
V424 = REPO / "data/benchmarks/minif2f_lean4_v4.24.jsonl"


@pytest.fixture(scope="module")
def parsed():
    out = {}
    for rec in load_theorems(V424):
        try:
            Elaborator().prop(parse_term(rec["statement"]))
            out[rec["name"]] = (rec["split"], True, "")
        except (ParseError, ElabError) as exc:
            out[rec["name"]] = (rec["split"], False, type(exc).__name__)
    return out


def test_every_statement_parses_or_is_rejected_cleanly(parsed):
    assert len(parsed) == 488
    assert all(ok or why in ("ParseError", "ElabError") for _, ok, why in parsed.values())


def test_pure_arithmetic_share_is_covered(parsed):
    per_split = defaultdict(lambda: [0, 0])
    for split, ok, _ in parsed.values():
        per_split[split][0] += ok
        per_split[split][1] += 1
    for split, (ok, n) in sorted(per_split.items()):
        print(f"parsed {split}: {ok}/{n} = {100 * ok / n:.1f}%")
        assert ok / n >= 0.60


def test_known_rejections_are_reported_as_such():
    for text in ["∀ (f z : ℂ), f = z", "∀ (S : Finset ℕ), S.card = 3", "IsGreatest { n : ℕ | 0 < n } 112",
                 "π > 3", "∀ (x : ℝ), x % 2 = 0", "∃ f : ℕ → ℕ, f 1 = 2", "∀ (x : ℝ), (2 : ℕ) ^ x = 4"]:
        with pytest.raises((ParseError, ElabError)):
            Elaborator().prop(parse_term(text))


def test_single_tactic_proofs_replay(parsed):
    fragment = {name.lower() for name, (_, ok, _) in parsed.items() if ok}
    tried, closed = Counter(), Counter()
    for rec in load_proofs(REPO / "data/proofs"):
        tactic = single_tactic(rec["proof"])
        if tactic is None or rec["name"].lower() not in fragment:
            continue
        tried[tactic] += 1
        closed[tactic] += replay(rec, solver_ms=3000)
    for tactic, n in tried.most_common():
        print(f"replayed {tactic}: {closed[tactic]}/{n}")
    total, ok = sum(tried.values()), sum(closed.values())
    print(f"replayed single-tactic proofs: {ok}/{total}")
    assert total >= 100
    assert ok / total >= 0.5
    for tactic in ("linarith", "nlinarith", "omega"):
        assert closed[tactic] >= 0.8 * tried[tactic], tactic


def test_check_reports_the_three_figures(tmp_path):
    """`python -m minilean --check` prints soundness, real-proof replay by source and coverage from one run."""
    import subprocess
    import sys

    proofs = tmp_path / "proofs"
    proofs.mkdir()
    good = {"name": "t1", "split": "test", "formal_statement": "theorem t1 (x : ℝ) (h : x = 2) : x + 1 = 3 := by",
            "proof": "  rw [h]\n  norm_num", "lean_version": "v4.15.0"}
    bad = {"name": "t2", "split": "test", "formal_statement": "theorem t2 (x : ℝ) (h : 0 < x) : 0 < x ^ 3 := by",
           "proof": "  exact?", "lean_version": "v4.15.0"}
    (proofs / "minif2f_proofs_demo.jsonl").write_text("\n".join(json.dumps(r) for r in (good, bad)) + "\n")
    out = subprocess.run([sys.executable, "-m", "minilean", "--check", str(REPO / "data/benchmarks/minif2f_valid.json"),
                          "--proofs", str(proofs), "--soundness-problems", "4"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "1. soundness search: 4 random problems" in text and "counterexamples: 0" in text
    assert "2. real proofs replayed" in text and "demo                 1/2 (50.0%)" in text
    assert "3. miniF2F statements goal.start accepts:" in text and "minif2f_valid (valid)" in text
