"""One theorem's search state and the operations every strategy shares.

Strategies decide WHAT to try; this class does the bookkeeping the same way for all of them: it calls
the backends with timing, grows the DAG, propagates status, scores in batches, re-checks proofs,
enforces budgets and emits events.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence

from prover.engine.backends import (
    Backends,
    OutcomeKind,
    ProofSession,
    Sample,
    StateLostError,
    TacticOutcome,
    VerifierError,
)
from prover.engine.config import SearchConfig
from prover.engine.events import (
    EdgeAdded,
    EventCallback,
    MetricLogged,
    NodeAdded,
    NodeExpanded,
    NodesScored,
    NodeStatusChanged,
    ProofFound,
    SearchEvent,
)
from prover.engine.frontier import Frontier
from prover.engine.priority import ebm_skipped_at
from prover.engine.replay_cache import ReplayCache
from prover.engine.result import FailureReason
from prover.engine.stats import SearchStats, Usage
from prover.engine.tree import UNSCORED_EBM, CycleError, NodeKind, SearchNode, SearchTree

# A completion that mentions one of these words is never replayed: Lean accepts `sorry` with a warning
# (docs/policy.md#banned-words).
_BANNED_WORD = re.compile(r"(?<![A-Za-z0-9_])(sorry|admit|cheat)(?![A-Za-z0-9_])")


def contains_banned_word(tactic: str) -> bool:
    return _BANNED_WORD.search(tactic) is not None


def root_goal_text(statement: str) -> str:
    """The root prompt is the statement behind `⊢ ` unless it already has a turnstile (docs/search.md#root)."""
    return statement if "⊢" in statement else f"⊢ {statement}"


class SearchContext:
    def __init__(self, *, theorem_name: str, statement: str, config: SearchConfig, backends: Backends,
                 session: ProofSession, on_event: EventCallback | None, is_cancelled: Callable[[], bool],
                 started: float) -> None:
        self.theorem_name = theorem_name
        self.statement = statement
        self.config = config
        self.backends = backends
        self.session = session
        self.tree = SearchTree()
        self.stats = SearchStats()
        self.frontier = Frontier()
        self.cache = ReplayCache()
        self.is_cancelled = is_cancelled
        self._on_event = on_event
        self._seq = 0
        self._started = started
        self.expansion_counter = 0
        self.proof_terminal: int | None = None
        self.usage_at_proof: Usage | None = None
        self.lean_generation = 0  # bumped each time the verifier process is replaced

    # ---- clock, events, budgets -------------------------------------------------------------------------

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._started) * 1000.0

    def emit(self, event_type: type[SearchEvent], **fields: object) -> None:
        if self._on_event is None:
            return
        self._seq += 1
        self._on_event(event_type(theorem_name=self.theorem_name, seq=self._seq, elapsed_ms=self.elapsed_ms(),
                                  **fields))

    def metric(self, name: str, value: float) -> None:
        self.emit(MetricLogged, name=name, value=float(value), step=self.stats.rounds)

    def stop_reason(self) -> FailureReason | None:
        """The budget checks at the top of every round: BurnQED's order, cancel first (docs/search.md#budgets)."""
        c, s = self.config, self.stats
        if self.is_cancelled():
            return FailureReason.CANCELLED
        if self.elapsed_ms() >= c.timeout_s * 1000.0:
            return FailureReason.TIMEOUT
        if c.max_completions is not None and s.completions >= c.max_completions:
            return FailureReason.BUDGET_EXHAUSTED
        if c.max_tokens is not None and s.completion_tokens >= c.max_tokens:
            return FailureReason.BUDGET_EXHAUSTED
        if c.max_nodes is not None and s.nodes_expanded >= c.max_nodes:
            return FailureReason.BUDGET_EXHAUSTED
        if c.max_rounds is not None and s.rounds >= c.max_rounds:
            return FailureReason.MAX_ROUNDS
        return None

    def interrupted(self) -> bool:
        """Cheap check between replays inside a round: cancellation and the wall clock only."""
        return self.is_cancelled() or self.elapsed_ms() >= self.config.timeout_s * 1000.0

    def usage(self) -> Usage:
        s = self.stats
        return Usage(rounds=s.rounds + 1, nodes_expanded=s.nodes_expanded, completions=s.completions,
                     completion_tokens=s.completion_tokens, total_tokens=s.total_tokens,
                     elapsed_ms=self.elapsed_ms())

    # ---- backends ---------------------------------------------------------------------------------------

    async def apply_tactic(self, node: SearchNode, tactic: str) -> tuple[TacticOutcome, float]:
        """Apply `tactic` to `node`'s Lean state.

        A tactic whose verifier process dies is tried once more on a new process; if it kills that one too it
        counts as FAILED and the proof goes on on the next process (docs/search.md#verifier-failures), up to
        `max_verifier_restarts` restarts; other VerifierErrors propagate and end the theorem.
        """
        state_id = await self._live_state_id(node)
        t0 = time.perf_counter()
        try:
            outcome = await self.session.tactic(state_id, tactic)
        except StateLostError as exc:
            await self._restart(exc)
            # The process may have died of something else (the OOM killer, an operator's kill): the tactic gets
            # one more try on the fresh process, and counts as failed only if it loses that one too.
            try:
                outcome = await self.session.tactic(await self._live_state_id(node), tactic)
            except StateLostError as again:
                await self._restart(again)
                outcome = TacticOutcome.failed(f"the verifier process was lost twice on this tactic and restarted: "
                                               f"{again}")
        ms = (time.perf_counter() - t0) * 1000.0
        self.stats.lean_ms += ms
        self.stats.lean_latencies_us.append(int(ms * 1000))
        self.stats.tactic_attempts += 1
        return outcome, ms

    async def _restart(self, cause: StateLostError) -> None:
        restart = getattr(self.session, "restart", None)
        if restart is None or self.stats.verifier_restarts >= self.config.max_verifier_restarts:
            raise cause
        self.stats.verifier_restarts += 1
        self.lean_generation += 1
        root = self.tree.root
        root.lean_state_id = await restart()
        root.lean_generation = self.lean_generation
        self.metric("verifier_restarts", self.stats.verifier_restarts)

    async def _live_state_id(self, node: SearchNode) -> int:
        """`node`'s state id on the current process, rebuilt by replaying its primary path if needed."""
        if node.lean_state_id is None:
            raise ValueError(f"node {node.id} has no Lean state to apply a tactic to")
        if node.lean_generation == self.lean_generation:
            return node.lean_state_id
        path = self.tree.primary_path(node.id)
        for parent_id, child_id in zip(path, path[1:], strict=False):
            child = self.tree[child_id]
            if child.lean_generation == self.lean_generation:
                continue
            parent = self.tree[parent_id]
            t0 = time.perf_counter()
            try:
                outcome = await self.session.tactic(parent.lean_state_id, child.tactic)
            except StateLostError as exc:
                raise VerifierError(f"rebuilding node {child.id} after a restart lost the process again: {exc}") from exc
            self.stats.lean_ms += (time.perf_counter() - t0) * 1000.0
            if outcome.kind is not OutcomeKind.GOALS or outcome.state_id is None:
                raise VerifierError(f"rebuilding node {child.id} after a restart: {child.tactic!r} gave "
                                    f"{outcome.kind.value} {outcome.error}".rstrip())
            child.lean_state_id, child.lean_generation = outcome.state_id, self.lean_generation
            self.stats.states_rebuilt += 1
        return node.lean_state_id

    def _account_generation(self, samples: Sequence[Sample], ms: float) -> None:
        self.stats.generate_ms += ms
        self.stats.generate_latencies_us.append(int(ms * 1000))
        for sample in samples:
            self.stats.completions += sample.completions
            self.stats.prompt_tokens += sample.prompt_tokens
            self.stats.completion_tokens += sample.completion_tokens

    async def propose_tactics(self, nodes: Sequence[SearchNode]) -> tuple[list[Sample], float]:
        c = self.config
        t0 = time.perf_counter()
        per_node = await self.backends.policy.propose_tactics(
            [n.state_text for n in nodes], c.num_candidates, max_tokens=c.max_tactic_tokens,
            temperature=c.temperature, top_p=c.top_p)
        ms = (time.perf_counter() - t0) * 1000.0
        if len(per_node) != len(nodes):
            raise ValueError(f"policy returned candidates for {len(per_node)} states, asked for {len(nodes)}")
        self._account_generation(per_node, ms)
        return per_node, ms

    async def propose_proofs(self, node: SearchNode, n: int, max_tokens: int,
                             temperature: float) -> tuple[Sample, float]:
        t0 = time.perf_counter()
        sample = await self.backends.policy.propose_proofs(
            node.state_text, n, max_tokens=max_tokens, temperature=temperature, top_p=self.config.top_p)
        ms = (time.perf_counter() - t0) * 1000.0
        self._account_generation([sample], ms)
        return sample, ms

    def ebm_in_use(self, depth: int) -> bool:
        return self.backends.scorer is not None and not ebm_skipped_at(depth, self.config)

    async def score(self, nodes: Sequence[SearchNode]) -> None:
        """Deferred collect-then-score: one scorer call for all `nodes`; failure gives the −1e6 sentinel
        (docs/search.md#value-scores)."""
        if self.backends.scorer is None or not nodes:
            return
        wanted = [n for n in nodes if not ebm_skipped_at(n.depth, self.config)]
        for n in nodes:
            if ebm_skipped_at(n.depth, self.config):
                n.ebm_score = UNSCORED_EBM
                self.stats.ebm_skipped_by_depth += 1
        if not wanted:
            return
        error = ""
        t0 = time.perf_counter()
        try:
            energies = await self.backends.scorer.score([n.state_text for n in wanted], self.root_goal)
            if len(energies) != len(wanted):
                raise ValueError(f"scorer returned {len(energies)} energies for {len(wanted)} states")
        except Exception as exc:  # a value-model failure must not end the search (docs/search.md#value-scores)
            energies = None
            error = f"{type(exc).__name__}: {exc}"
            self.stats.ebm_failures += 1
        ms = (time.perf_counter() - t0) * 1000.0
        self.stats.ebm_ms += ms
        self.stats.ebm_latencies_us.append(int(ms * 1000))
        self.stats.ebm_score_calls += 1
        self.stats.ebm_scored_states += len(wanted)
        for i, n in enumerate(wanted):
            energy = None if energies is None else float(energies[i])
            if energy is None or not math.isfinite(energy):
                # A NaN would poison the frontier's ordering; such a state ranks as unscored instead.
                n.energy, n.ebm_score = None, UNSCORED_EBM
            else:
                n.energy, n.ebm_score = energy, -energy
        self.emit(NodesScored, scores=[{"node_id": n.id, "energy": n.energy, "ebm_score": n.ebm_score}
                                       for n in wanted], ebm_ms=ms, error=error)

    @property
    def root_goal(self) -> str:
        return self.tree.root.state_text

    async def score_root(self) -> None:
        """A skipped root gets −1e6, a failed root score gets 0.0 (docs/search.md#value-scores)."""
        root = self.tree.root
        if self.backends.scorer is None:
            return
        if ebm_skipped_at(0, self.config):
            root.ebm_score = UNSCORED_EBM
            return
        await self.score([root])
        if root.energy is None:
            root.ebm_score = 0.0

    # ---- growing the DAG --------------------------------------------------------------------------------

    def _announce(self, node: SearchNode) -> None:
        self.emit(NodeAdded, node_id=node.id, parent_id=node.parent_id, kind=node.kind.value, tactic=node.tactic,
                  goal_text=node.state_text, num_goals=len(node.goals), depth=node.depth, log_prob=node.log_prob,
                  energy=node.energy, status=node.status.value, expansion_order=node.expansion_order,
                  lean_ms=node.lean_ms, error=node.error, source=node.source)

    def refresh(self, node_id: int) -> None:
        changed = self.tree.refresh_status(node_id)
        if changed:
            self.emit(NodeStatusChanged, changes=[{"node_id": n.id, "status": n.status.value} for n in changed])

    def add_root(self, state_id: int, goals: Sequence[str] = ()) -> SearchNode:
        """The root state: the verifier's rendering of the started goal when it gives one, so that every
        node (root included) goes through the same renderer and a tactic leading back to the root is seen
        as a loop; otherwise `⊢ statement` (docs/search.md#root)."""
        root_goals = tuple(goals) if goals else (root_goal_text(self.statement),)
        root = self.tree.add_root(root_goals, state_id, created_ms=self.elapsed_ms())
        self._announce(root)
        return root

    def add_failure(self, parent: SearchNode, tactic: str, error: str, log_prob: float, lean_ms: float,
                    source: str) -> SearchNode:
        self.stats.tactic_failures += 1
        node = self.tree.add_failed_tactic(parent.id, tactic, error, log_prob=log_prob,
                                           created_ms=self.elapsed_ms(), lean_ms=lean_ms, source=source)
        self._announce(node)
        self.refresh(parent.id)
        return node

    def add_state(self, parent: SearchNode, tactic: str, outcome: TacticOutcome, log_prob: float, lean_ms: float,
                  source: str) -> SearchNode:
        node = self.tree.add_state(parent.id, tactic, outcome.goals, outcome.state_id, log_prob=log_prob,
                                   created_ms=self.elapsed_ms(), lean_ms=lean_ms, source=source)
        node.lean_generation = self.lean_generation
        self._announce(node)
        return node

    def merge(self, parent: SearchNode, existing_id: int, tactic: str, lean_ms: float) -> bool:
        """Link `parent` to a state already in the DAG; False (a loop) if that would close a cycle."""
        try:
            added = self.tree.add_merge_edge(parent.id, existing_id, tactic)
        except CycleError:
            self.stats.loops_detected += 1
            return False
        if not added:
            return True
        self.stats.states_merged += 1
        self.emit(EdgeAdded, parent_id=parent.id, node_id=existing_id, tactic=tactic, lean_ms=lean_ms)
        self.refresh(parent.id)
        return True

    async def add_terminal(self, parent: SearchNode, tactic: str, outcome: TacticOutcome, log_prob: float,
                           lean_ms: float, source: str) -> SearchNode | None:
        """Record a finished proof and re-check it whole; returns the terminal if it counts, else None."""
        node = self.tree.add_terminal(parent.id, tactic, outcome.state_id, log_prob=log_prob,
                                      created_ms=self.elapsed_ms(), lean_ms=lean_ms, source=source)
        tactics = self.tree.proof_tactics(node.id)
        verified, message, check_ms = True, "", 0.0
        if self.config.recheck_proofs:
            t0 = time.perf_counter()
            check = await self.backends.verifier.check_proof(self.statement, tactics)
            check_ms = (time.perf_counter() - t0) * 1000.0
            self.stats.check_ms += check_ms
            verified, message = check.ok, check.message
        if not verified:
            self.stats.proofs_rejected_by_recheck += 1
            self.tree.reject_terminal(node.id, f"whole-proof re-check failed: {message}")
        self._announce(node)
        self.emit(ProofFound, node_id=node.id, tactics=tactics, proof_text=proof_text(tactics), verified=verified,
                  check_message=message, check_ms=check_ms)
        self.refresh(parent.id)
        if not verified:
            return None
        self.stats.nodes_terminal += 1
        if self.proof_terminal is None:
            self.proof_terminal = node.id
            self.usage_at_proof = self.usage()
        return node

    def mark_expanded(self, node: SearchNode) -> int:
        order = self.expansion_counter
        self.expansion_counter += 1
        self.tree.mark_expanded(node.id, order)
        self.stats.nodes_expanded += 1
        return order

    def announce_expansion(self, node: SearchNode, *, candidates: int, children_before: int, generate_ms: float,
                           lean_ms: float) -> None:
        assert node.expansion_order is not None
        self.emit(NodeExpanded, node_id=node.id, expansion_order=node.expansion_order, depth=node.depth,
                  round=self.stats.rounds, candidates=candidates,
                  children_added=len(node.children) - children_before, generate_ms=generate_ms, lean_ms=lean_ms)
        self.refresh(node.id)


def proof_text(tactics: Sequence[str]) -> str:
    """The tactic block of a proof, one tactic per line at the indentation `by` expects."""
    lines: list[str] = []
    for tactic in tactics:
        lines.extend("  " + line for line in tactic.split("\n"))
    return "\n".join(lines)


def is_open_state(node: SearchNode) -> bool:
    return node.kind in (NodeKind.ROOT, NodeKind.STATE)
