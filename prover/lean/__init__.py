"""Pantograph protocol client, REPL worker process and pool. No Django.

    from prover.lean import LeanConfig, LeanPool, StateLost
    async with LeanPool(LeanConfig()) as pool:      # minilean workers; LeanConfig.pantograph(...) for Lean
        pool.require_dataset_version(dataset_lean_version, dataset=name, allow_mismatch=False)
        async with pool.proof(expr="∀ (a b : ℕ), a < b → a < b") as proof:     # or copy_from="thm_name"
            step = await proof.tactic(proof.root_state_id, "intro a b h")     # TacticResult
            if step.outcome is Outcome.NEW_GOALS:
                step.text, goal_key(step.goals)                                 # prompt text, dedupe key
            # StateLost: the process died (timeout/crash/memory); proof.replay(path) or proof.restart()
        verdict = await pool.check_proof(statement, proof_text)                # CheckResult, fresh process
        pool.stats().as_dict()                                                   # dashboard counters

Modules: goals (canonical goal text), results (classification), safety (command filter), config,
versions, process (one child), client (typed commands), worker (one healthy REPL), pool, stats, errors.
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
