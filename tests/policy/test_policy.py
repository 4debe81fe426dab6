"""The search-facing policy over the SGLang double: prompts, stops and read-back belong together."""

from __future__ import annotations

import pytest

from prover.policy.policy import Policy
from prover.policy.prompts import format_prompt
from tests.policy.sglang_double import SGLangDouble

STATE = "x : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 > 0"


async def test_tactics_use_the_state_prompt_and_step_stops(sglang: SGLangDouble, make_client) -> None:
    prompt = format_prompt("deepseek-prover", state=STATE)
    # A step stop ("\n\n") cuts the first completion; the third is a whitespace variant of the first.
    sglang.completions[prompt] = ["positivity\n\nlinarith", "nlinarith [h₀]", "positivity ", "exact sorry"]
    policy = Policy(make_client(sglang.base_url))

    [proposals] = await policy.propose_tactics([STATE], n=4, temperature=1.0)

    [request] = sglang.requests
    assert request["text"] == [prompt] * 4
    assert request["sampling_params"] == {
        "max_new_tokens": 48,
        "temperature": 1.0,
        "top_p": 0.95,
        "stop": ["```", "\n\n"],
    }
    assert sorted(c.tactic for c in proposals.candidates) == ["nlinarith [h₀]", "positivity"]
    assert [c.logprob for c in proposals.candidates] == sorted(
        (c.logprob for c in proposals.candidates), reverse=True
    )
    assert len(proposals.completions) == 4
    assert proposals.prompt_tokens == 4 * len(prompt)
    assert proposals.completion_tokens == sum(c.completion_tokens for c in proposals.completions)


async def test_whole_proofs_from_a_state_are_split_for_replay(sglang: SGLangDouble, make_client) -> None:
    prompt = format_prompt("deepseek-prover", state=STATE)
    sglang.completions[prompt] = ["have h : x ^ 2 > 0 := by\n    positivity\n  exact h\n```\ntrailing prose"]
    policy = Policy(make_client(sglang.base_url))

    [proposals] = await policy.propose_proofs([STATE], n=1, max_new_tokens=256)

    assert sglang.requests[0]["sampling_params"]["stop"] == ["```"]
    assert sglang.requests[0]["sampling_params"]["max_new_tokens"] == 256
    assert [p.tactics for p in proposals.candidates] == [("have h : x ^ 2 > 0 := by positivity", "exact h")]


async def test_root_proofs_continue_the_theorem_statement(sglang: SGLangDouble, make_client) -> None:
    statement = "theorem sq_pos (x : ℝ) (h₀ : 0 < x) : x ^ 2 > 0 := by sorry"
    prompt = format_prompt("deepseek-whole-proof", theorem_statement=statement)
    sglang.completions[prompt] = ["positivity", "nlinarith [sq_nonneg x]\n  sorry"]
    policy = Policy(make_client(sglang.base_url))

    proposals = await policy.propose_theorem_proofs(statement, n=2)

    assert sglang.requests[0]["text"] == [prompt, prompt]
    assert [p.tactics for p in proposals.candidates] == [("positivity",)]
    assert len(proposals.completions) == 2


def test_formats_must_match_their_role(make_client) -> None:
    client = make_client("http://127.0.0.1:1")
    with pytest.raises(
        ValueError, match="state_format 'deepseek-whole-proof' is not built from a tactic state"
    ):
        Policy(client, state_format="deepseek-whole-proof")
    with pytest.raises(
        ValueError, match="theorem_format 'goal-proofstep' is not built from a theorem statement"
    ):
        Policy(client, theorem_format="goal-proofstep")
