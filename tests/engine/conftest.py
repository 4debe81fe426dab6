"""Shared fixtures for engine tests: a small, fully specified proof space over in-process backends."""

from __future__ import annotations

import pytest

from prover.engine.backends import Backends
from prover.engine.inprocess import FunctionScorer, ScriptedPolicy, TableVerifier

STATEMENT = "∀ (x : ℝ) (h : x = 2), x + 1 = 3"
ROOT = "⊢ " + STATEMENT
INTRO = "x : ℝ\nh : x = 2\n⊢ x + 1 = 3"
SIMPED = "x : ℝ\nh : x = 2\n⊢ x = 2"

# A space where `linarith` closes the goal after `intro x h`, `simp` leads to a detour state that
# `exact h` closes, and `norm_num` at the root fails.
RULES = {
    ROOT: {"intro x h": [INTRO], "intros": [INTRO]},
    INTRO: {"linarith": None, "simp": [SIMPED], "norm_num": None},
    SIMPED: {"exact h": None},
}


@pytest.fixture
def verifier() -> TableVerifier:
    return TableVerifier(RULES)


@pytest.fixture
def events() -> list:
    return []


def backends(verifier, policy, scorer=None) -> Backends:
    return Backends(verifier=verifier, policy=policy, scorer=scorer)


def length_scorer() -> FunctionScorer:
    return FunctionScorer(lambda s: float(len(s)))


def scripted(**kwargs) -> ScriptedPolicy:
    return ScriptedPolicy(**kwargs)
