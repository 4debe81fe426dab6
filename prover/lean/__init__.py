"""Pantograph protocol client, REPL worker process and pool. No Django.

    from prover.lean import LeanConfig, LeanPool
    async with LeanPool(LeanConfig()) as pool:            # minilean workers; LeanConfig.pantograph() for Lean
        async with pool.proof(expr="∀ (a b : ℕ), a + b = b + a") as proof:
            result = await proof.tactic(proof.root_state_id, "intro a b")
        verdict = await pool.check_proof(statement, proof_text)
"""

from prover.lean.client import PantographClient, proof_file
from prover.lean.config import LeanConfig, default_worker_count
from prover.lean.errors import (
    ConfigError,
    LeanLayerError,
    PoolClosed,
    PoolTimeout,
    ReplayError,
    ReplError,
    ReplStartError,
    StateLost,
    UnsafeInputError,
    VersionMismatchError,
)
from prover.lean.goals import Goal, Variable, goal_key, normalise_goal_text, render_goals
from prover.lean.pool import LeanPool, ProofHandle
from prover.lean.results import (
    CheckResult,
    Outcome,
    StartResult,
    TacticResult,
    classify_check,
    classify_tactic,
)
from prover.lean.safety import check_proof_text, check_statement, check_tactic
from prover.lean.stats import PoolStats
from prover.lean.versions import LeanVersions, query_versions, require_compatible_lean
from prover.lean.worker import LeanWorker

__all__ = [
    "CheckResult", "ConfigError", "Goal", "LeanConfig", "LeanLayerError", "LeanPool", "LeanVersions", "LeanWorker",
    "Outcome", "PantographClient", "PoolClosed", "PoolStats", "PoolTimeout", "ProofHandle", "ReplError", "ReplayError",
    "ReplStartError", "StartResult", "StateLost", "TacticResult", "UnsafeInputError", "Variable",
    "VersionMismatchError", "check_proof_text", "check_statement", "check_tactic", "classify_check",
    "classify_tactic", "default_worker_count", "goal_key", "normalise_goal_text", "proof_file", "query_versions",
    "render_goals", "require_compatible_lean",
]
