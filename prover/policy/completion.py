"""One sampled completion as the policy server returned it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Completion:
    """A completion and what it cost.

    ``logprob`` is the sum of the per-token log-probabilities of the generated tokens (SGLang's
    ``meta_info.output_token_logprobs[i][0]``), so longer completions score lower. Token counts come from
    the server, not from a local tokenizer, so budgets are charged what the server actually spent.
    """

    text: str
    logprob: float
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None = None
    truncated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
