"""Tactic-level best-first search (BurnQED v1's design, docs/search.md#best-first-priority).

Each round pops the `batch_expansion_size` best open nodes, asks the policy for k distinct tactics per node
in one batched call, verifies each in Lean, and only then scores every new child of the round in one EBM
call (deferred collect-then-score) before pushing them with the blended LLM/EBM priority.
"""

from __future__ import annotations

from prover.engine.backends import Candidate, OutcomeKind
from prover.engine.context import SearchContext, contains_banned_word
from prover.engine.priority import best_first_priority
from prover.engine.replay_cache import normalise_tactic
from prover.engine.strategies.base import RoundOutcome
from prover.engine.tree import NodeKind, SearchNode

PROBE_LOG_PROB = -10.0  # probes get a fixed low prior, below typical sampled tactics (docs/search.md#probe-tactics)


class BestFirstStrategy:
    def __init__(self, ctx: SearchContext) -> None:
        self.ctx = ctx

    def _priority(self, node: SearchNode) -> float:
        ebm = node.ebm_score if self.ctx.ebm_in_use(node.depth) else None
        return best_first_priority(node.log_prob, ebm, node.depth, self.ctx.config)

    def _is_live(self, node_id: int) -> bool:
        node = self.ctx.tree[node_id]
        return node.expansion_order is None and node.kind in (NodeKind.ROOT, NodeKind.STATE)

    def _with_probes(self, candidates: list[Candidate]) -> list[tuple[Candidate, str]]:
        """The probe tactics follow the policy's candidates, minus those it already proposed (as in BurnQED v1);
        each with its source, so a stored step says whether the policy or a probe proposed it."""
        sourced = [(c, "policy") for c in candidates]
        if not self.ctx.config.probe_tactics:
            return sourced
        seen = {normalise_tactic(c.text) for c in candidates}
        probes = [(Candidate(t, PROBE_LOG_PROB), "probe") for t in self.ctx.config.probe_tactics
                  if normalise_tactic(t) not in seen]
        return [*sourced, *probes]

    async def start(self) -> None:
        await self.ctx.score_root()
        self.ctx.frontier.push(0, self._priority(self.ctx.tree.root))

    async def run_round(self) -> RoundOutcome:
        ctx = self.ctx
        batch: list[SearchNode] = []
        while len(batch) < ctx.config.batch_expansion_size:
            node_id = ctx.frontier.pop(self._is_live)
            if node_id is None:
                break
            node = ctx.tree[node_id]
            if node.depth >= ctx.config.max_depth:
                ctx.mark_expanded(node)
                # Counted as expanded, as v1 did, but never sent to the policy (docs/search.md#best-first-priority).
                ctx.stats.nodes_pruned += 1
                ctx.announce_expansion(node, candidates=0, children_before=0, generate_ms=0.0, lean_ms=0.0)
                continue
            batch.append(node)
        if not batch:
            return RoundOutcome.FRONTIER_EMPTY if len(ctx.frontier) == 0 else RoundOutcome.CONTINUE

        per_node, generate_ms = await ctx.propose_tactics(batch)
        new_children: list[SearchNode] = []
        proved = False
        for node, sample in zip(batch, per_node, strict=True):
            if proved:
                break  # the rest of the batch stays unexpanded (open): its candidates were never tried
            ctx.mark_expanded(node)
            candidates = self._with_probes(sample.candidates)
            children_before = len(node.children)
            lean_ms = 0.0
            for candidate, source in candidates:
                if proved or ctx.interrupted():
                    break
                tactic = candidate.text
                if not tactic.strip():
                    continue
                if contains_banned_word(tactic):
                    ctx.stats.sorry_rejected += 1
                    continue
                outcome, ms = await ctx.apply_tactic(node, tactic)
                lean_ms += ms
                if source == "probe":
                    ctx.stats.probe_attempts += 1
                    ctx.stats.probe_successes += outcome.kind is not OutcomeKind.FAILED
                if outcome.kind is OutcomeKind.FAILED:
                    ctx.add_failure(node, tactic, outcome.error, candidate.log_prob, ms, source)
                elif outcome.kind is OutcomeKind.PROVED:
                    if await ctx.add_terminal(node, tactic, outcome, candidate.log_prob, ms, source):
                        proved = True
                else:
                    existing = ctx.tree.find_state(outcome.goals)
                    if existing is not None:
                        ctx.merge(node, existing, tactic, ms)
                    else:
                        new_children.append(ctx.add_state(node, tactic, outcome, candidate.log_prob, ms, source))
            ctx.announce_expansion(node, candidates=len(candidates), children_before=children_before,
                                   generate_ms=generate_ms, lean_ms=lean_ms)
        if proved:
            return RoundOutcome.PROVED
        await ctx.score(new_children)
        for child in new_children:
            ctx.frontier.push(child.id, self._priority(child))
        ctx.stats.peak_frontier_size = max(ctx.stats.peak_frontier_size, ctx.frontier.peak_size)
        return RoundOutcome.CONTINUE if len(ctx.frontier) else RoundOutcome.FRONTIER_EMPTY
