"""The search DAG: proof states deduplicated by their canonical goal text, with status propagated upward.

A node is a whole proof state (all its open goals, joined with a blank line: the exact text the policy
sees and the deduplication key). Pantograph applies a tactic to the first goal and returns the full
remaining state, so a multi-goal state is proved as soon as ONE tactic edge leads to a proved state: the
other goals are carried inside that child. Status is therefore an OR over children:

- a terminal node (no goals left) is proved;
- a failed-tactic node (a tactic Lean rejected, kept so the UI and the statistics can show it) is failed;
- a state node is proved if any child is proved, failed if it has been expanded and every child failed,
  and open otherwise.

The first parent of a node is its primary parent (the path used for proofs and trajectory records).
Reaching a known state from another parent adds a merge edge, unless that would close a cycle.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field


class NodeStatus(enum.StrEnum):
    OPEN = "open"
    PROVED = "proved"
    FAILED = "failed"


class NodeKind(enum.StrEnum):
    ROOT = "root"
    STATE = "state"
    TERMINAL = "terminal"
    FAILED_TACTIC = "failed_tactic"


# The value sentinel for "not scored / scoring failed" (docs/search.md#value-scores).
UNSCORED_EBM = -1e6


@dataclass(slots=True)
class SearchNode:
    id: int
    kind: NodeKind
    parent_ids: list[int]
    tactic: str
    goals: tuple[str, ...]
    lean_state_id: int | None
    depth: int
    log_prob: float
    created_ms: float
    lean_ms: float = 0.0
    source: str = "policy"
    error: str = ""
    status: NodeStatus = NodeStatus.OPEN
    energy: float | None = None
    ebm_score: float = 0.0
    expansion_order: int | None = None
    children: list[int] = field(default_factory=list)
    lean_generation: int = 0  # which verifier process `lean_state_id` belongs to (see SearchContext)

    @property
    def parent_id(self) -> int | None:
        return self.parent_ids[0] if self.parent_ids else None

    @property
    def state_text(self) -> str:
        return "\n\n".join(self.goals)

    @property
    def targets_text(self) -> str:
        """The goal targets only (text after ⊢), for the goal-unchanged replay guard."""
        return "\n\n".join(goal.split("⊢", 1)[-1].strip() for goal in self.goals)

    @property
    def is_expandable_kind(self) -> bool:
        return self.kind in (NodeKind.ROOT, NodeKind.STATE)


@dataclass(frozen=True, slots=True)
class Edge:
    parent_id: int
    child_id: int
    tactic: str
    merge: bool  # True when the child already existed (reached from another parent)


class CycleError(ValueError):
    pass


class SearchTree:
    def __init__(self) -> None:
        self.nodes: list[SearchNode] = []
        self.edges: list[Edge] = []
        self._by_state: dict[str, int] = {}
        self._failed_children: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[SearchNode]:
        return iter(self.nodes)

    def __getitem__(self, node_id: int) -> SearchNode:
        return self.nodes[node_id]

    @property
    def root(self) -> SearchNode:
        return self.nodes[0]

    def find_state(self, goals: tuple[str, ...]) -> int | None:
        return self._by_state.get("\n\n".join(goals))

    def add_root(self, goals: tuple[str, ...], lean_state_id: int, *, created_ms: float = 0.0) -> SearchNode:
        if self.nodes:
            raise ValueError("the tree already has a root")
        node = SearchNode(0, NodeKind.ROOT, [], "", tuple(goals), lean_state_id, 0, 0.0, created_ms, source="root")
        self.nodes.append(node)
        self._by_state[node.state_text] = 0
        return node

    def add_state(self, parent_id: int, tactic: str, goals: tuple[str, ...], lean_state_id: int | None, *,
                  log_prob: float, created_ms: float, lean_ms: float = 0.0, source: str = "policy") -> SearchNode:
        """A new state node; the caller has checked that `goals` is not already in the tree."""
        key = "\n\n".join(goals)
        if not goals:
            raise ValueError("a state node needs goals; use add_terminal for a finished proof")
        if key in self._by_state:
            raise ValueError(f"state already in the tree as node {self._by_state[key]}; use add_merge_edge")
        node = self._append(NodeKind.STATE, parent_id, tactic, goals, lean_state_id, log_prob, created_ms,
                            lean_ms, source, "")
        self._by_state[key] = node.id
        return node

    def add_terminal(self, parent_id: int, tactic: str, lean_state_id: int | None, *, log_prob: float,
                     created_ms: float, lean_ms: float = 0.0, source: str = "policy") -> SearchNode:
        """A finished proof. Terminals are never deduplicated: each is a distinct proof (docs/search.md#search-tree)."""
        node = self._append(NodeKind.TERMINAL, parent_id, tactic, (), lean_state_id, log_prob, created_ms,
                            lean_ms, source, "")
        node.status = NodeStatus.PROVED
        return node

    def add_failed_tactic(self, parent_id: int, tactic: str, error: str, *, log_prob: float,
                          created_ms: float, lean_ms: float = 0.0, source: str = "policy") -> SearchNode:
        node = self._append(NodeKind.FAILED_TACTIC, parent_id, tactic, (), None, log_prob, created_ms, lean_ms,
                            source, error)
        node.status = NodeStatus.FAILED
        return node

    def add_merge_edge(self, parent_id: int, child_id: int, tactic: str) -> bool:
        """Record that `tactic` at `parent_id` reaches the existing `child_id`; CycleError if it would loop.

        False when the edge adds nothing (the parent already leads to that state).
        """
        if child_id == parent_id or self.is_ancestor(child_id, parent_id):
            raise CycleError(f"node {child_id} is an ancestor of node {parent_id}")
        child = self.nodes[child_id]
        if parent_id in child.parent_ids:
            return False
        child.parent_ids.append(parent_id)
        self.nodes[parent_id].children.append(child_id)
        if child.status is NodeStatus.FAILED:
            self._failed_children[parent_id] = self._failed_children.get(parent_id, 0) + 1
        self.edges.append(Edge(parent_id, child_id, tactic, merge=True))
        return True

    def reject_terminal(self, node_id: int, error: str) -> None:
        """A terminal whose whole-proof re-check failed: it becomes a failed child (refresh parents after)."""
        node = self.nodes[node_id]
        if node.kind is not NodeKind.TERMINAL:
            raise ValueError(f"node {node_id} is a {node.kind.value}, not a terminal")
        if node.status is NodeStatus.FAILED:
            return
        node.status = NodeStatus.FAILED
        node.error = error
        for parent_id in node.parent_ids:
            self._failed_children[parent_id] = self._failed_children.get(parent_id, 0) + 1

    def is_ancestor(self, candidate: int, node_id: int) -> bool:
        """Whether `candidate` is reachable from `node_id` by following parent edges."""
        seen: set[int] = set()
        stack = list(self.nodes[node_id].parent_ids)
        while stack:
            current = stack.pop()
            if current == candidate:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(self.nodes[current].parent_ids)
        return False

    def mark_expanded(self, node_id: int, order: int) -> None:
        self.nodes[node_id].expansion_order = order

    def refresh_status(self, node_id: int) -> list[SearchNode]:
        """Recompute the status of `node_id` and of its ancestors; returns the nodes whose status changed."""
        changed: list[SearchNode] = []
        stack = [node_id]
        while stack:
            node = self.nodes[stack.pop()]
            new = self._derived_status(node)
            if new is node.status:
                continue
            old = node.status
            node.status = new
            changed.append(node)
            for parent_id in node.parent_ids:
                if new is NodeStatus.FAILED:
                    self._failed_children[parent_id] = self._failed_children.get(parent_id, 0) + 1
                elif old is NodeStatus.FAILED:
                    self._failed_children[parent_id] -= 1
                stack.append(parent_id)
        return changed

    def _derived_status(self, node: SearchNode) -> NodeStatus:
        if not node.is_expandable_kind:
            return node.status
        if any(self.nodes[c].status is NodeStatus.PROVED for c in node.children):
            return NodeStatus.PROVED
        if node.expansion_order is not None and self._failed_children.get(node.id, 0) == len(node.children):
            return NodeStatus.FAILED
        return NodeStatus.OPEN

    def primary_path(self, node_id: int) -> list[int]:
        """Node ids from the root to `node_id` along primary parents, cycle-guarded: a cycle once made such a walk
        grow without end (docs/search.md#search-tree)."""
        path: list[int] = []
        seen: set[int] = set()
        current: int | None = node_id
        while current is not None:
            if current in seen:
                raise CycleError(f"primary-parent cycle through node {current}")
            seen.add(current)
            path.append(current)
            current = self.nodes[current].parent_id
        path.reverse()
        return path

    def proof_tactics(self, terminal_id: int) -> list[str]:
        return [self.nodes[i].tactic for i in self.primary_path(terminal_id) if self.nodes[i].tactic]

    def _append(self, kind: NodeKind, parent_id: int, tactic: str, goals: tuple[str, ...],
                lean_state_id: int | None, log_prob: float, created_ms: float, lean_ms: float, source: str,
                error: str) -> SearchNode:
        parent = self.nodes[parent_id]
        node = SearchNode(len(self.nodes), kind, [parent_id], tactic, tuple(goals), lean_state_id,
                         parent.depth + 1, log_prob, created_ms, lean_ms=lean_ms, source=source, error=error)
        self.nodes.append(node)
        parent.children.append(node.id)
        if kind is NodeKind.FAILED_TACTIC:
            self._failed_children[parent_id] = self._failed_children.get(parent_id, 0) + 1
        self.edges.append(Edge(parent_id, node.id, tactic, merge=False))
        return node
