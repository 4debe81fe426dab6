"""The safety filter refuses Lean command syntax with an error that names the token and where it was."""

import json
from pathlib import Path

import pytest

from prover.lean.errors import UnsafeInputError
from prover.lean.safety import check_proof_text, check_statement, check_tactic


@pytest.mark.parametrize(
    "tactic",
    [
        "nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]",
        "norm_num [Nat.Prime] at h ⊢",
        "rw [Nat.add_comm]",
        "open Real in simp [Real.sqrt_eq_iff]",
        "set_option maxHeartbeats 400000 in nlinarith",
        "exact h.le",
        "have h2 : x = 2 := by linarith",
        "intro ⟨x, hx⟩",
        "simp_all [Finset.sum_range_succ]",
    ],
)
def test_ordinary_tactics_pass(tactic):
    assert check_tactic(tactic) == tactic


@pytest.mark.parametrize(
    ("tactic", "token"),
    [
        ("#eval IO.println 1", "#eval"),
        ("simp\n#exit", "#exit"),
        ("run_cmd Lean.logInfo \"x\"", "run_cmd"),
        ("exact (IO.getStdout)", "IO"),
        ("simp\naxiom cheat : False", "axiom"),
        ("set_option debug.skipKernelTC true in simp", "set_option debug.skipKernelTC"),
        ("native_decide", "native_decide"),
        ("exact Lean.ofReduceBool _ _ rfl", "Lean"),
        ("elab \"t\" : tactic => pure ()", "elab"),
        ("macro \"x\" : tactic => `(tactic| rfl)", "macro"),
        ("open Lean Elab in exact x", "Lean"),
        ("unsafe_x", None),  # a longer identifier is not the keyword
    ],
)
def test_command_syntax_is_refused_naming_the_token(tactic, token):
    if token is None:
        check_tactic(tactic)
        return
    with pytest.raises(UnsafeInputError) as info:
        check_tactic(tactic)
    assert info.value.token == token
    assert repr(token) in str(info.value) and "tactic" in str(info.value)
    assert tactic[info.value.position :].startswith(token.split()[0])


def test_statement_errors_name_the_theorem():
    assert check_statement("∀ (x : ℝ), 0 ≤ x ^ 2") == "∀ (x : ℝ), 0 ≤ x ^ 2"
    assert check_statement("∀ (x : ℝ), let y := x + 1; y > x")
    with pytest.raises(UnsafeInputError, match=r"statement of amc12_2000_p1.*'import'"):
        check_statement("import Mathlib\n∀ x : ℕ, x = x", name="amc12_2000_p1")
    with pytest.raises(UnsafeInputError, match="not a definition"):
        check_statement("∀ x : ℕ, x = x := rfl")


def test_empty_and_control_characters():
    with pytest.raises(UnsafeInputError, match="empty"):
        check_tactic("   ")
    with pytest.raises(UnsafeInputError, match="control character"):
        check_tactic("simp\x00")
    with pytest.raises(TypeError):
        check_tactic(None)  # type: ignore[arg-type]


def test_proof_text_with_a_second_declaration_is_refused():
    with pytest.raises(UnsafeInputError, match="proof text.*'theorem'"):
        check_proof_text("intro x\n  simp\ntheorem other : False := by sorry")


DATA = Path(__file__).resolve().parents[2] / "data"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_benchmark_statement_passes():
    """The filter must not cost us real competition statements (the ∀-forms that goal.start receives)."""
    count = 0
    for name in ("minif2f_test.json", "minif2f_valid.json", "minif2f_v2s_test.json", "minif2f_v2s_valid.json"):
        for theorem in json.loads((DATA / "benchmarks" / name).read_text())["theorems"]:
            check_statement(theorem["statement"], name=theorem["name"])
            count += 1
    assert count == 976


def test_published_tactics_and_proofs_pass_except_compiled_code_and_commands():
    for pair in jsonl(DATA / "tactic_pairs" / "minif2f_test_tactic_pairs_internlm2.jsonl"):
        check_tactic(pair["tactic"])
    refused: dict[str, int] = {}
    for path in sorted((DATA / "proofs").glob("*.jsonl")):
        for record in jsonl(path):
            if not record.get("proof"):
                continue
            try:
                check_proof_text(record["proof"])
            except UnsafeInputError as exc:
                refused[exc.token] = refused.get(exc.token, 0) + 1
    # Kimina's native_decide proofs trust compiled code; Seed-Prover's files end with `#print axioms`.
    assert set(refused) == {"native_decide", "#print"}
