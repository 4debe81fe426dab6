"""Which steps an iteration runs, in order, from what it starts with (docs/expert-iteration.md#steps).

Iteration n trains its policy on what iterations < n found (and seed data), so it first needs data; its
decoupled EBMs learn on the same trajectories, one with the previous policy's embeddings (config A) and one with
its own (config B), while a joint run's head is config C; every evaluation runs on the held-out theorems at the
same node budget; the search on the training theorems feeds iteration n + 1; the probes measure this policy's
embeddings on the chain's one probe set (built from the first trajectories there are).
"""

from dataclasses import dataclass

from .spec import IterationSpec

TRAIN_POLICY, EBM_A, EBM_B = "train_policy", "ebm_a", "ebm_b"
EVAL_LLM, EVAL_A, EVAL_B, EVAL_C = "eval_llm", "eval_a", "eval_b", "eval_c"
SEARCH, PROBES = "search", "probes"
# Steps that only measure: when one fails (e.g. a search too small to give a probe set states at depth >= 2) the
# chain goes on and the table shows its figures as missing with the reason; nothing later depends on them.
MEASUREMENTS = frozenset({PROBES})
EVALS = (EVAL_LLM, EVAL_A, EVAL_B, EVAL_C)

DESCRIPTIONS = {
    TRAIN_POLICY: "train the policy on the harvested proofs and seed data",
    EBM_A: "decoupled EBM on the previous policy's embeddings (config A)",
    EBM_B: "decoupled EBM on this policy's embeddings (config B)",
    EVAL_LLM: "held-out eval, policy only",
    EVAL_A: "held-out eval, previous policy + its decoupled EBM (config A)",
    EVAL_B: "held-out eval, this policy + its decoupled EBM (config B)",
    EVAL_C: "held-out eval, this policy + its jointly trained EBM (config C)",
    SEARCH: "search the training theorems: the next iteration's data",
    PROBES: "embedding probes of this policy on the chain's probe set",
}


@dataclass(frozen=True)
class Situation:
    """What an iteration starts with."""

    has_parent: bool  # a previous iteration exists: its policy is config A's
    has_trajectories: bool  # earlier iterations searched and left trajectories


def plan(spec: IterationSpec, situation: Situation) -> list[str]:
    steps = []
    # Joint training needs both streams (SFT data and trajectories): a joint chain's first iteration, with
    # nothing searched yet, is the base model (it searches; the next one trains).
    trains = spec.policy_training != "none" and (situation.has_trajectories if spec.policy_training == "joint"
                                                 else bool(spec.seed_data) or situation.has_trajectories)
    if trains:
        steps.append(TRAIN_POLICY)
    if situation.has_trajectories:
        if "A" in spec.configs and situation.has_parent and trains:  # untrained, A would equal B
            steps.append(EBM_A)
        if "B" in spec.configs:
            steps.append(EBM_B)
    steps.append(EVAL_LLM)
    steps += [evaluation for evaluation, needed in ((EVAL_A, EBM_A), (EVAL_B, EBM_B)) if needed in steps]
    if "C" in spec.configs and trains and spec.policy_training == "joint":
        steps.append(EVAL_C)
    return [*steps, SEARCH, PROBES]
