"""SGLang-compatible policy client, prompt formats and tactic extraction. No Django.

Public API (import from the submodules or from here):
- ``PolicyClient``: async client for SGLang's native ``/generate`` (``prover.policy.client``).
- ``Policy``: states in, ranked tactics or replayable proofs out (``prover.policy.policy``).
- ``format_prompt``, ``embedding_text``, ``training_completion``, ``PROMPT_FORMATS``: the only place prompt
  text is built (``prover.policy.prompts``).
- ``extract_first_tactic``, ``extract_proof_tactics``: reading tactics out of text as written;
  ``first_tactic_of_completion``, ``split_completion``: the same for a completion of a primed prompt
  (they restore the indentation the prompt supplied), which is what search should call.
"""

from prover.policy.banned_words import contains_banned_word
from prover.policy.candidates import (
    ProofCandidate,
    TacticCandidate,
    first_tactic_of_completion,
    normalize_tactic,
    rank_tactic_candidates,
    replayable_proofs,
    split_completion,
)
from prover.policy.circuit_breaker import CircuitBreaker
from prover.policy.client import PolicyClient, PolicyUsage
from prover.policy.completion import Completion
from prover.policy.errors import (
    CircuitOpenError,
    PolicyError,
    PolicyProtocolError,
    PolicyRequestError,
    PolicyServerError,
    PolicyTimeoutError,
    PolicyUnavailableError,
)
from prover.policy.extraction import extract_first_tactic, extract_proof_tactics
from prover.policy.policy import Policy, Proposals
from prover.policy.prompts import (
    DEFAULT_PROMPT_FORMAT,
    EMBEDDING_PROMPT_FORMAT,
    PROMPT_FORMATS,
    PromptFormat,
    embedding_text,
    format_prompt,
    get_prompt_format,
    stop_sequences,
    theorem_statement_from_expression,
    training_completion,
)

__all__ = [
    "DEFAULT_PROMPT_FORMAT",
    "EMBEDDING_PROMPT_FORMAT",
    "PROMPT_FORMATS",
    "CircuitBreaker",
    "CircuitOpenError",
    "Completion",
    "Policy",
    "PolicyClient",
    "PolicyError",
    "PolicyProtocolError",
    "PolicyRequestError",
    "PolicyServerError",
    "PolicyTimeoutError",
    "PolicyUnavailableError",
    "PolicyUsage",
    "PromptFormat",
    "ProofCandidate",
    "Proposals",
    "TacticCandidate",
    "contains_banned_word",
    "embedding_text",
    "extract_first_tactic",
    "extract_proof_tactics",
    "first_tactic_of_completion",
    "format_prompt",
    "get_prompt_format",
    "normalize_tactic",
    "rank_tactic_candidates",
    "replayable_proofs",
    "split_completion",
    "stop_sequences",
    "theorem_statement_from_expression",
    "training_completion",
]
