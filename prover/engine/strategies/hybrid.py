"""Hybrid whole-proof search (BurnQED's current engine: docs/search.md#hybrid-rounds).

A round pops one leaf by PUCT score, samples N(d) whole proofs from it with T(d) tokens, splits each into
tactics and replays them through Lean, walking the replay cache so shared prefixes cost nothing. The
replay guards (loop, depth cap, goal unchanged, have growth, have chains) stop a completion's replay but
keep the node it reached. New nodes are scored in one batch at the end of the round.
"""

from __future__ import annotations

from prover.engine.backends import Candidate, OutcomeKind
from prover.engine.context import SearchContext, contains_banned_word
from prover.engine.priority import decayed_proofs, decayed_tokens, puct_score, ramped_temperature
from prover.engine.replay_cache import FAILED
from prover.engine.strategies.base import RoundOutcome
from prover.engine.tree import NodeKind, SearchNode

# Nodes created by probe tactics get a fixed, low prior (docs/search.md#probe-tactics).
PROBE_LOG_PROB = -10.0


class HybridStrategy:
    def __init__(self, ctx: SearchContext) -> None:
        self.ctx = ctx
        self._round_new: list[SearchNode] = []

    # ---- frontier ---------------------------------------------------------------------------------------

    def _prior(self, node: SearchNode) -> float:
        return node.ebm_score if self.ctx.ebm_in_use(node.depth) else node.log_prob

    def _score(self, node: SearchNode) -> float:
        counts = self.ctx.cache.counts(node.id)
        parent_visits = self.ctx.cache.counts(node.parent_id).visits if node.parent_id is not None else 0
        return puct_score(prior=self._prior(node), visits=counts.visits, successes=counts.successes,
                          parent_visits=parent_visits, n_goals=len(node.goals), config=self.ctx.config)

    def _pushable(self, node: SearchNode) -> bool:
        return (node.expansion_order is None and node.kind in (NodeKind.ROOT, NodeKind.STATE)
                and node.depth < self.ctx.config.max_depth)

    def _push(self, node: SearchNode) -> None:
        self.ctx.frontier.push(node.id, self._score(node))
        self.ctx.stats.peak_frontier_size = max(self.ctx.stats.peak_frontier_size, self.ctx.frontier.peak_size)

    async def start(self) -> None:
        await self.ctx.score_root()
        self._push(self.ctx.tree.root)

    def pop_leaf(self) -> SearchNode | None:
        node_id = self.ctx.frontier.pop(lambda i: self._pushable(self.ctx.tree[i]))
        return None if node_id is None else self.ctx.tree[node_id]

    # ---- one round --------------------------------------------------------------------------------------

    def sampling_for(self, leaf: SearchNode) -> tuple[int, int, float]:
        c = self.ctx.config
        return decayed_proofs(leaf.depth, c), decayed_tokens(leaf.depth, c), ramped_temperature(leaf.depth, c)

    async def run_round(self) -> RoundOutcome:
        ctx = self.ctx
        leaf = self.pop_leaf()
        if leaf is None:
            return RoundOutcome.FRONTIER_EMPTY
        arena_before = len(ctx.tree)
        ctx.mark_expanded(leaf)
        self._round_new = []
        children_before = len(leaf.children)
        lean_before = ctx.stats.lean_ms

        proved = await self._probe(leaf)
        completions: list[Candidate] = []
        generate_ms = 0.0
        if not proved:
            n, max_tokens, temperature = self.sampling_for(leaf)
            sample, generate_ms = await ctx.propose_proofs(leaf, n, max_tokens, temperature)
            completions = sample.candidates
            for completion in completions:
                if ctx.interrupted():
                    break
                if await self._replay(leaf, completion):
                    proved = True
                    break
        ctx.announce_expansion(leaf, candidates=len(completions), children_before=children_before,
                               generate_ms=generate_ms, lean_ms=ctx.stats.lean_ms - lean_before)
        if proved:
            return RoundOutcome.PROVED

        await ctx.score([n for n in self._round_new if n.kind is NodeKind.STATE])
        for node_id in ctx.cache.drain_updated_below(arena_before):
            node = ctx.tree[node_id]
            if self._pushable(node):
                self._push(node)
        for node in self._round_new:
            if self._pushable(node):
                self._push(node)
        return RoundOutcome.CONTINUE

    async def _replay(self, leaf: SearchNode, completion: Candidate) -> bool:
        """Replay one whole-proof completion from `leaf`; True when it reached a verified proof."""
        ctx = self.ctx
        tactics = completion.tactics
        if not tactics:
            return False
        if any(contains_banned_word(t) for t in tactics):
            ctx.stats.sorry_rejected += 1
            return False
        current = leaf
        for tactic in tactics:
            if ctx.interrupted():
                return False
            ctx.cache.record_visit(current.id)
            cached = ctx.cache.lookup(current.id, tactic)
            if cached is not None:
                ctx.stats.trie_cache_hits += 1
                if cached == FAILED:
                    return False
                current = ctx.tree[cached]
                if current.kind is NodeKind.TERMINAL:
                    return True
                continue
            outcome, ms = await ctx.apply_tactic(current, tactic)
            if outcome.kind is OutcomeKind.FAILED:
                ctx.cache.record_failure(current.id, tactic)
                ctx.add_failure(current, tactic, outcome.error, completion.log_prob, ms, "replay")
                return False
            if outcome.kind is OutcomeKind.PROVED:
                terminal = await ctx.add_terminal(current, tactic, outcome, completion.log_prob, ms, "replay")
                if terminal is None:
                    ctx.cache.record_failure(current.id, tactic)
                    return False
                ctx.cache.record_success(current.id, tactic, terminal.id)
                ctx.cache.record_proof_success(ctx.tree.primary_path(terminal.id))
                return True
            child = self._advance(current, tactic, outcome, completion.log_prob, ms)
            if child is None:
                return False
            if await self._probe(child):
                return True
            current = child
            if self._guard_stops(current, tactic):
                return False
        return False

    def _advance(self, current: SearchNode, tactic: str, outcome, log_prob: float, ms: float) -> SearchNode | None:
        """Loop check, depth cap, then a new node (docs/search.md#replay-guards). None stops the replay."""
        ctx = self.ctx
        existing = ctx.tree.find_state(outcome.goals)
        if existing is not None:
            # A revisited state is a cache FAILURE so no later replay walks through it again; the DAG
            # still records the edge when it closes no cycle, so the tree shows how states connect.
            ctx.cache.record_failure(current.id, tactic)
            ctx.merge(current, existing, tactic, ms)
            return None
        if current.depth + 1 >= ctx.config.max_depth:
            # Never created, never marked visited, so a shallower path may still reach this state.
            ctx.stats.depth_capped += 1
            return None
        child = ctx.add_state(current, tactic, outcome, log_prob, ms, "replay")
        ctx.cache.record_success(current.id, tactic, child.id)
        self._round_new.append(child)
        return child

    def _guard_stops(self, child: SearchNode, tactic: str) -> bool:
        """Goal-unchanged and `have` guards: stop replaying this completion, keeping the node where it is
        (docs/search.md#replay-guards)."""
        ctx, c = self.ctx, self.ctx.config
        unchanged, node = 0, child
        while node.parent_id is not None and node.targets_text == ctx.tree[node.parent_id].targets_text:
            unchanged += 1
            node = ctx.tree[node.parent_id]
        if c.max_goal_unchanged_steps and unchanged >= c.max_goal_unchanged_steps:
            ctx.stats.goal_unchanged_pruned += 1
            return True
        if tactic.startswith("have "):
            parent = ctx.tree[child.parent_id] if child.parent_id is not None else child
            if len(child.goals) > len(parent.goals):
                ctx.stats.have_goal_increase_pruned += 1
                return True
            chain, node = 0, child
            while node.parent_id is not None and node.tactic.startswith("have "):
                chain += 1
                node = ctx.tree[node.parent_id]
            if c.max_consecutive_have and chain >= c.max_consecutive_have:
                ctx.stats.have_chain_pruned += 1
                return True
        return False

    async def _probe(self, node: SearchNode) -> bool:
        """Try the configured probe tactics at `node`, the replay trie first (docs/search.md#probe-tactics)."""
        ctx = self.ctx
        if not ctx.config.probe_tactics:
            return False
        ctx.cache.record_visit(node.id)
        for tactic in ctx.config.probe_tactics:
            cached = ctx.cache.lookup(node.id, tactic)
            if cached is not None:
                ctx.stats.trie_cache_hits += 1
                if cached != FAILED and ctx.tree[cached].kind is NodeKind.TERMINAL:
                    return True
                continue
            ctx.stats.probe_attempts += 1
            outcome, ms = await ctx.apply_tactic(node, tactic)
            if outcome.kind is OutcomeKind.FAILED:
                ctx.cache.record_failure(node.id, tactic)
                ctx.add_failure(node, tactic, outcome.error, PROBE_LOG_PROB, ms, "probe")
            elif outcome.kind is OutcomeKind.PROVED:
                terminal = await ctx.add_terminal(node, tactic, outcome, PROBE_LOG_PROB, ms, "probe")
                if terminal is None:
                    ctx.cache.record_failure(node.id, tactic)
                    continue
                ctx.stats.probe_successes += 1
                ctx.cache.record_success(node.id, tactic, terminal.id)
                ctx.cache.record_proof_success(ctx.tree.primary_path(terminal.id))
                return True
            elif ctx.tree.find_state(outcome.goals) is not None:
                ctx.cache.record_failure(node.id, tactic)  # probes that revisit a state are failures too
                ctx.stats.loops_detected += 1
            elif node.depth + 1 < ctx.config.max_depth:
                ctx.stats.probe_successes += 1
                child = ctx.add_state(node, tactic, outcome, PROBE_LOG_PROB, ms, "probe")
                ctx.cache.record_success(node.id, tactic, child.id)
                self._round_new.append(child)
        return False
