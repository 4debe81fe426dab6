"""Best-first / hybrid / pass@N proof search over a DAG of proof states. No Django.

Build and run one search:

    from prover.engine import Backends, SearchConfig, search_theorem
    from prover.engine.adapters import StackSettings, open_backends

    config = SearchConfig.for_strategy("hybrid", max_rounds=10)        # strategy defaults + overrides
    async with open_backends(StackSettings(policy_url=..., encoder_url=..., ebm_path=...)) as backends:
        result = await search_theorem(name, statement, config=config, backends=backends,
                                      on_event=callback, cancel=threading_event)

`on_event` receives typed events (`prover.engine.events`: SearchStarted, NodeAdded, EdgeAdded,
NodeExpanded, NodesScored, NodeStatusChanged, ProofFound, MetricLogged, TheoremFinished), each with a
JSON-safe `to_dict()`. `cancel` is anything with `is_set()` or a no-arg callable, checked between
expansions and replays; the result's `failure_reason` is then `cancelled`. Many theorems:
`prover.engine.runner.search_theorems`; trajectories: `prover.engine.trajectory.TrajectoryWriter`.
"""

from prover.engine.backends import (
    Backends,
    Candidate,
    OutcomeKind,
    PolicyBackend,
    PolicyBackendError,
    ProofCheck,
    ProofSession,
    Sample,
    Scorer,
    TacticOutcome,
    Verifier,
    VerifierError,
)
from prover.engine.config import ConfigError, SearchConfig
from prover.engine.result import FailureReason, SearchResult
from prover.engine.search import search_theorem
from prover.engine.tree import NodeKind, NodeStatus

__all__ = [
    "Backends", "Candidate", "ConfigError", "FailureReason", "NodeKind", "NodeStatus", "OutcomeKind", "PolicyBackend",
    "PolicyBackendError", "ProofCheck", "ProofSession", "Sample", "Scorer", "SearchConfig", "SearchResult",
    "TacticOutcome", "Verifier", "VerifierError", "search_theorem",
]
