"""Golden tests for the prompt formats: byte for byte, including unicode and newlines."""

from __future__ import annotations

import pytest

from prover.policy.prompts import (
    DEFAULT_PROMPT_FORMAT,
    EMBEDDING_PROMPT_FORMAT,
    PROMPT_FORMATS,
    embedding_text,
    format_prompt,
    get_prompt_format,
    normalize_theorem_statement,
    stop_sequences,
    theorem_statement_from_expression,
    training_completion,
)

STATE = "x y : ℝ\nh₀ : 0 < x\n⊢ x + y = y + x"
TWO_GOALS = "case left\np q : Prop\nhp : p\n⊢ p\n\ncase right\np q : Prop\nhq : q\n⊢ q"


def test_deepseek_prover_prompt_is_byte_exact() -> None:
    expected = (
        "<\uff5cbegin\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>Complete the following Lean 4 code:\n\n"
        "```lean4\n/- tactic state:\nx y : ℝ\nh₀ : 0 < x\n⊢ x + y = y + x\n-/\n```"
        "<\uff5cAssistant\uff5c>```lean4\n/- tactic state:\nx y : ℝ\nh₀ : 0 < x\n⊢ x + y = y + x\n-/\n"
        "example := by\n  "
    )
    assert format_prompt("deepseek-prover", state=STATE) == expected


def test_deepseek_markers_are_the_fullwidth_bar_and_lower_block() -> None:
    prompt = format_prompt("deepseek-prover", state="⊢ True")
    assert prompt.encode("utf-8").startswith(
        b"<\xef\xbd\x9cbegin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c><\xef\xbd\x9cUser\xef\xbd\x9c>"
    )
    assert "<\uff5cAssistant\uff5c>".encode() in prompt.encode("utf-8")
    assert "|" not in prompt and "_" not in prompt


def test_multi_goal_state_is_embedded_verbatim_twice() -> None:
    prompt = format_prompt("deepseek-prover", state=TWO_GOALS)
    assert prompt.count("/- tactic state:\n" + TWO_GOALS + "\n-/\n") == 2
    assert prompt.endswith("-/\nexample := by\n  ")


def test_whole_proof_prompt_continues_the_statement() -> None:
    statement = "theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 := by"
    expected = (
        "<\uff5cbegin\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>Complete the following Lean 4 code:\n\n"
        "```lean4\ntheorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 := by\n```"
        "<\uff5cAssistant\uff5c>```lean4\n"
        "theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 := by\n  "
    )
    assert format_prompt("deepseek-whole-proof", theorem_statement=statement) == expected
    assert format_prompt("deepseek-whole-proof", theorem_statement=statement + " sorry") == expected
    assert format_prompt("deepseek-whole-proof", theorem_statement=statement + "\n  sorry\n") == expected


def test_goal_proofstep_prompt_is_byte_exact() -> None:
    assert (
        format_prompt("goal-proofstep", state=STATE)
        == "[GOAL]x y : ℝ\nh₀ : 0 < x\n⊢ x + y = y + x[PROOFSTEP]\n"
    )


def test_theorem_statement_from_a_benchmark_expression() -> None:
    statement = theorem_statement_from_expression(
        "amc12_2000_p5", "∀ (x p : ℝ), x < 2 → abs (x - 2) = p → x - p = 2 - 2 * p"
    )
    assert (
        statement == "theorem amc12_2000_p5 : ∀ (x p : ℝ), x < 2 → abs (x - 2) = p → x - p = 2 - 2 * p := by"
    )
    assert normalize_theorem_statement(statement) == statement


def test_names_are_case_insensitive_and_every_format_is_registered_under_its_name() -> None:
    assert get_prompt_format("DeepSeek-Prover") is PROMPT_FORMATS["deepseek-prover"]
    assert all(name == fmt.name for name, fmt in PROMPT_FORMATS.items())
    assert DEFAULT_PROMPT_FORMAT in PROMPT_FORMATS


def test_stop_sequences() -> None:
    assert stop_sequences("deepseek-prover", whole_proof=False) == ["```", "\n\n"]
    assert stop_sequences("deepseek-prover", whole_proof=True) == ["```"]
    assert stop_sequences("deepseek-whole-proof", whole_proof=True) == ["```"]


def test_embedding_text_is_the_policy_prompt() -> None:
    assert EMBEDDING_PROMPT_FORMAT == "deepseek-prover"
    assert embedding_text(STATE) == format_prompt("deepseek-prover", state=STATE)
    assert embedding_text(STATE, format_name="goal-proofstep") == format_prompt("goal-proofstep", state=STATE)


def test_training_completion_indents_continuation_lines_like_the_primed_prompt() -> None:
    tactic = "have h : x = 1 := by\n  simp\n  ring"
    assert training_completion("deepseek-prover", tactic) == "have h : x = 1 := by\n    simp\n    ring\n```"
    assert training_completion("goal-proofstep", tactic) == tactic
    assert training_completion("deepseek-prover", "norm_num") == "norm_num\n```"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: format_prompt("goedel-v2-wp", state="⊢ True"),
            ValueError,
            "unknown prompt format 'goedel-v2-wp'; known formats: deepseek-prover, deepseek-whole-proof, goal-proofstep",
        ),
        (
            lambda: format_prompt("deepseek-prover"),
            TypeError,
            "'deepseek-prover': state must be a str, got NoneType",
        ),
        (
            lambda: format_prompt("deepseek-prover", state="  \n"),
            ValueError,
            "'deepseek-prover': state is empty",
        ),
        (
            lambda: format_prompt(
                "deepseek-prover", state="⊢ True", theorem_statement="theorem t : True := by"
            ),
            ValueError,
            "built from a tactic state; got theorem_statement",
        ),
        (
            lambda: format_prompt("deepseek-whole-proof", state="⊢ True"),
            ValueError,
            "built from a theorem statement; got state",
        ),
        (
            lambda: format_prompt("deepseek-whole-proof", theorem_statement="theorem t : True := trivial"),
            ValueError,
            "must end with ':= by'",
        ),
        (
            lambda: embedding_text("⊢ True", format_name="deepseek-whole-proof"),
            ValueError,
            "cannot embed states",
        ),
        (lambda: theorem_statement_from_expression("two words", "True"), ValueError, "without spaces"),
        (lambda: get_prompt_format(3), TypeError, "must be a str, got int"),
        (lambda: training_completion("deepseek-prover", ""), ValueError, "tactics is empty"),
    ],
)
def test_bad_input_is_a_clear_error(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)
