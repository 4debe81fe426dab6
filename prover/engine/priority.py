"""Node priorities: the best-first blend of LLM log-prob and EBM score, and the hybrid PUCT frontier score."""

from __future__ import annotations

import math

from prover.engine.config import SearchConfig


def _safe_divisor(t: float) -> float:
    # A temperature of ~0 means "no scaling", not a division by zero (docs/search.md#best-first-priority).
    return 1.0 if abs(t) < 1e-12 else t


def ebm_skipped_at(depth: int, config: SearchConfig) -> bool:
    """BurnQED's `should_skip_ebm`: the EBM is not consulted below `ebm_min_depth` (docs/search.md#best-first-priority)."""
    return config.ebm_min_depth > 0 and depth < config.ebm_min_depth


def effective_beta(depth: int, config: SearchConfig) -> float:
    """The EBM weight at `depth`: 0 below ebm_min_depth, then ramped linearly over ebm_ramp_depth."""
    if depth < config.ebm_min_depth:
        return 0.0
    if config.ebm_ramp_depth == 0:
        return config.beta
    return config.beta * min(1.0, depth / config.ebm_ramp_depth)


def best_first_priority(log_prob: float, ebm_score: float | None, depth: int, config: SearchConfig) -> float:
    """alpha·(log_prob/llm_T) + beta(d)·(ebm_score/ebm_T); higher is expanded first.

    `ebm_score` is −energy (higher = more provable); None when no scorer is configured.
    The temperatures are scale divisors that calibrate the two terms: a summed log-prob and an energy live on
    different scales (docs/search.md#best-first-priority).
    """
    value = config.alpha * (log_prob / _safe_divisor(config.llm_temperature))
    if ebm_score is not None:
        value += effective_beta(depth, config) * (ebm_score / _safe_divisor(config.ebm_temperature))
    return value


def puct_score(*, prior: float, visits: int, successes: int, parent_visits: int, n_goals: int,
               config: SearchConfig) -> float:
    """alpha_t·prior + (1−alpha_t)·q + c·sqrt(ln(pv+1)/(1+v)) − penalty·max(0, goals−1) (docs/search.md#puct-frontier)."""
    q = successes / visits if visits else 0.0
    alpha_t = config.alpha / (1 + visits)
    value = alpha_t * prior + (1 - alpha_t) * q
    explore = config.exploration_c * math.sqrt(math.log(parent_visits + 1) / (1 + visits))
    return value + explore - config.goal_count_penalty * max(0, n_goals - 1)


def decayed_proofs(depth: int, config: SearchConfig) -> int:
    """Whole proofs sampled at a leaf of this depth, decaying linearly over D (docs/search.md#hybrid-rounds)."""
    if config.tokens_decay_depth == 0:
        return config.num_proofs
    frac = min(1.0, depth / config.tokens_decay_depth)
    return max(config.min_proofs, config.num_proofs - int((config.num_proofs - config.min_proofs) * frac))


def decayed_tokens(depth: int, config: SearchConfig) -> int:
    if config.tokens_decay_depth == 0:
        return config.max_proof_tokens
    frac = min(1.0, depth / config.tokens_decay_depth)
    span = config.max_proof_tokens - config.min_proof_tokens
    return max(config.min_proof_tokens, config.max_proof_tokens - int(span * frac))


def ramped_temperature(depth: int, config: SearchConfig) -> float:
    if config.max_temperature <= 0 or config.tokens_decay_depth == 0:
        return config.temperature
    frac = min(1.0, depth / config.tokens_decay_depth)
    return min(config.max_temperature, config.temperature + (config.max_temperature - config.temperature) * frac)
