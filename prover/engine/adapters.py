"""Thin adapters from the engine's protocols to the real packages: prover.lean, prover.policy, prover.value.

    async with open_backends(StackSettings(policy_url="http://127.0.0.1:30000")) as backends:
        result = await search_theorem(name, statement, config=config, backends=backends)

Nothing here decides anything about search; each class only translates calls, results and errors.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from prover.engine.backends import (
    Backends,
    Candidate,
    PolicyBackendError,
    ProofCheck,
    Sample,
    Scorer,
    StateLostError,
    TacticOutcome,
    VerifierError,
)
from prover.engine.context import proof_text
from prover.engine.tactic_rewrite import rewrite_tactic
from prover.lean import (
    LeanConfig,
    LeanLayerError,
    LeanPool,
    Outcome,
    ProofHandle,
    StateLost,
    UnsafeInputError,
)
from prover.lean.versions import require_compatible_lean
from prover.policy import DEFAULT_PROMPT_FORMAT, PolicyClient, PolicyError
from prover.policy import Policy as PromptedPolicy


class LeanProofSession:
    def __init__(self, handle: ProofHandle, *, rewrite: bool) -> None:
        self._handle = handle
        self._rewrite = rewrite
        start = handle.initial
        self.root_goals: tuple[str, ...] = tuple(g.render() for g in start.goals) if start else ()

    @property
    def root_state_id(self) -> int:
        return self._handle.root_state_id

    async def tactic(self, state_id: int, tactic: str) -> TacticOutcome:
        sent = rewrite_tactic(tactic) if self._rewrite else tactic
        try:
            result = await self._handle.tactic(state_id, sent)
        except UnsafeInputError as exc:  # the tactic carried command syntax: a bad tactic, not a bad worker
            return TacticOutcome.failed(f"refused before Lean: {exc}")
        except StateLost as exc:
            raise StateLostError(str(exc)) from exc
        except LeanLayerError as exc:
            raise VerifierError(f"{type(exc).__name__}: {exc}") from exc
        if result.outcome is Outcome.PROOF_COMPLETE:
            return TacticOutcome.proved(result.state_id)
        if result.outcome is Outcome.NEW_GOALS and result.state_id is not None and result.goals:
            return TacticOutcome.new_goals(result.state_id, [g.render() for g in result.goals])
        return TacticOutcome.failed(result.feedback or result.outcome.value)


    async def restart(self) -> int:
        """Start the theorem again on the worker's replacement process; the new root state id."""
        try:
            start = await self._handle.restart()
        except LeanLayerError as exc:
            raise VerifierError(f"restarting the proof failed: {type(exc).__name__}: {exc}") from exc
        return start.state_id


class LeanVerifier:
    """A `Verifier` over started `LeanPool`s; each proof holds one worker of `pool` for its whole search.

    Whole-proof checks run on `check_pool`, a separate pool: a search re-checks its proof while still
    holding its own worker, so checking on the same pool deadlocks once every worker holds a proof.
    """

    def __init__(self, pool: LeanPool, *, check_pool: LeanPool, rewrite_tactics: bool = True) -> None:
        if check_pool is pool:
            raise ValueError("check_pool must be a different pool from the search pool (it would deadlock)")
        self.pool = pool
        self.check_pool = check_pool
        self.rewrite_tactics = rewrite_tactics

    @asynccontextmanager
    async def open_proof(self, statement: str) -> AsyncIterator[LeanProofSession]:
        started = False
        try:
            async with self.pool.proof(expr=statement) as handle:
                started = True
                yield LeanProofSession(handle, rewrite=self.rewrite_tactics)
        except LeanLayerError as exc:
            what = "the Lean worker failed" if started else "could not start the proof"
            raise VerifierError(f"{what}: {type(exc).__name__}: {exc}") from exc

    async def describe(self) -> dict:
        """The Lean (or stand-in) versions the pool's workers report."""
        return self.pool.versions.as_dict()

    def health(self) -> dict:
        """The search pool's counters: busy workers, restarts by cause, timeouts, queue waits."""
        return {"worker": socket.gethostname(), **self.pool.stats().as_dict()}

    def require_compatible(self, dataset_lean_version: str | None, *, dataset: str, allow_mismatch: bool) -> None:
        """Refuse a dataset written for another Lean than the pool runs (a stand-in pool claims none):
        raises VersionMismatchError."""
        require_compatible_lean(dataset_lean_version, self.pool.versions, dataset=dataset,
                                allow_mismatch=allow_mismatch)

    async def check_proof(self, statement: str, tactics: Sequence[str]) -> ProofCheck:
        sent = [rewrite_tactic(t) for t in tactics] if self.rewrite_tactics else list(tactics)
        try:
            result = await self.check_pool.check_proof(statement, proof_text(sent))
        except UnsafeInputError as exc:
            return ProofCheck(False, f"refused before Lean: {exc}")
        except LeanLayerError as exc:
            raise VerifierError(f"whole-proof check failed to run: {type(exc).__name__}: {exc}") from exc
        if result.ok:
            return ProofCheck(True)
        return ProofCheck(False, result.lost or "; ".join(result.errors) or
                          ("the proof uses sorry" if result.has_sorry else "rejected"))


class PolicyAdapter:
    """A `PolicyBackend` over prover.policy's prompted policy (prompt format, stops, extraction, dedupe)."""

    def __init__(self, policy: PromptedPolicy) -> None:
        self.policy = policy

    async def propose_tactics(self, states: Sequence[str], n: int, *, max_tokens: int, temperature: float,
                              top_p: float) -> list[Sample]:
        try:
            proposals = await self.policy.propose_tactics(states, n=n, max_new_tokens=max_tokens,
                                                          temperature=temperature, top_p=top_p)
        except PolicyError as exc:
            raise PolicyBackendError(f"policy server: {exc}") from exc
        return [Sample([Candidate(c.tactic, c.logprob) for c in p.candidates], len(p.completions),
                       p.prompt_tokens, p.completion_tokens) for p in proposals]

    async def describe(self) -> dict:
        """What the policy server says it serves (model path, dtype, adapter ...), with the prompt format; an
        older server without /get_model_info still runs searches and says why it could not tell."""
        info = {"url": self.policy.client.base_url, "prompt_format": self.policy.state_format,
                "adapter": self.policy.client.lora_path or ""}
        try:
            served = await self.policy.client.model_info()
        except Exception as exc:
            return {**info, "model_info_error": type(exc).__name__}
        return {**info, **known_model_info(served)}

    async def propose_proofs(self, state: str, n: int, *, max_tokens: int, temperature: float,
                             top_p: float) -> Sample:
        try:
            [p] = await self.policy.propose_proofs([state], n=n, max_new_tokens=max_tokens,
                                                   temperature=temperature, top_p=top_p)
        except PolicyError as exc:
            raise PolicyBackendError(f"policy server: {exc}") from exc
        return Sample([Candidate(c.completion.text, c.logprob, tuple(c.tactics)) for c in p.candidates],
                      len(p.completions), p.prompt_tokens, p.completion_tokens)


# What a run records of a policy server's /get_model_info (SGLang's and prover.serving's names): viewers read it,
# so nothing else the server says is kept, and each text is cut short.
MODEL_INFO_FIELDS = ("model_path", "tokenizer_path", "served_model_name", "model_type", "hidden_size", "vocab_size",
                     "dtype", "engine", "device", "quantization", "context_length", "is_generation", "version",
                     "adapter_merged", "logprob_mode")
MODEL_INFO_TEXT_CHARS = 200


def known_model_info(served: object) -> dict:
    if not isinstance(served, dict):
        return {}
    kept = {}
    for key in MODEL_INFO_FIELDS:
        value = served.get(key)
        if isinstance(value, str):
            kept[key] = "".join(c for c in value[:MODEL_INFO_TEXT_CHARS] if c.isprintable())
        elif isinstance(value, bool | int | float):
            kept[key] = value
    return kept


@dataclass(frozen=True)
class StackSettings:
    """Where the backends are. Defaults are the local stack: minilean workers, a local policy server."""

    policy_url: str = "http://127.0.0.1:30000"
    encoder_url: str | None = None
    ebm_path: str | None = None
    lean: str = "minilean"  # or "pantograph"
    pantograph_repl: str = "pantograph-repl"
    num_workers: int = 2
    prompt_format: str = DEFAULT_PROMPT_FORMAT
    rewrite_tactics: bool = True
    adapter: str | None = None  # the LoRA adapter the policy server and the encoder apply (lora_path)

    def __post_init__(self) -> None:
        if self.lean not in ("minilean", "pantograph"):
            raise ValueError(f"lean: {self.lean!r} is not 'minilean' or 'pantograph'")
        if self.num_workers < 1:
            raise ValueError(f"num_workers: must be >= 1, got {self.num_workers}")
        if self.ebm_path and not self.encoder_url:
            raise ValueError("ebm_path needs encoder_url: the energy head scores embeddings from /encode")


@asynccontextmanager
async def open_verifier(settings: StackSettings) -> AsyncIterator[LeanVerifier]:
    """Start the Lean pool (and the one-worker pool that re-checks whole proofs); close both on exit."""
    if settings.lean == "minilean":
        lean_config = LeanConfig.minilean(num_workers=settings.num_workers)
    else:
        lean_config = LeanConfig.pantograph(repl=(settings.pantograph_repl,), num_workers=settings.num_workers)
    async with LeanPool(lean_config) as pool, LeanPool(lean_config.replace(num_workers=1)) as check_pool:
        yield LeanVerifier(pool, check_pool=check_pool, rewrite_tactics=settings.rewrite_tactics)


@asynccontextmanager
async def open_backends(settings: StackSettings) -> AsyncIterator[Backends]:
    """Start the Lean pool, connect the policy (and the value model if configured); close all on exit."""
    async with AsyncExitStack() as stack:
        verifier = await stack.enter_async_context(open_verifier(settings))
        client = await stack.enter_async_context(PolicyClient(settings.policy_url, lora_path=settings.adapter))
        policy = PolicyAdapter(PromptedPolicy(client, state_format=settings.prompt_format))
        scorer: Scorer | None = None
        if settings.ebm_path:
            from prover.value import EncoderClient, EnergyScorer, load_energy_head

            head = load_energy_head(settings.ebm_path)
            encoder = await stack.enter_async_context(
                EncoderClient(str(settings.encoder_url), hidden_size=head.config.embedding_dim,
                              lora_path=settings.adapter))
            scorer = EnergyScorer(head, encoder)
        yield Backends(verifier, policy, scorer)
