"""Fixtures for the Lean layer: real minilean processes, and a check that none outlives its test.

Each test's workers carry a unique environment marker, so the leak check finds them anywhere on the
machine, orphans reparented to init included, and never mistakes another test run's processes for ours.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from prover.lean.config import LeanConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
MARK_VARIABLE = "BURNQED_LEAN_TEST_MARK"


def processes_marked(mark: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARK_VARIABLE) == mark:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def zombie_children() -> list[psutil.Process]:
    zombies = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                zombies.append(child)
        except psutil.NoSuchProcess:
            continue
    return zombies


@pytest.fixture
def process_mark() -> Iterator[str]:
    """A marker for this test's REPL processes; after the test none may be left, nor any zombie."""
    mark = uuid.uuid4().hex
    yield mark
    leftovers = processes_marked(mark)
    for proc in leftovers:  # clean up so one failure does not cascade, then fail loudly
        proc.kill()
    assert not leftovers, f"REPL processes outlived the test: {[p.pid for p in leftovers]}"
    zombies = zombie_children()
    assert not zombies, f"zombie children left: {[p.pid for p in zombies]}"


@pytest.fixture
def minilean(process_mark: str) -> Callable[..., LeanConfig]:
    """Build a minilean `LeanConfig` for this test (one worker unless told otherwise)."""

    def build(*, theorems_file: str | None = None, **overrides: object) -> LeanConfig:
        settings: dict[str, object] = {
            "cwd": str(REPO_ROOT),
            "env": {MARK_VARIABLE: process_mark, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
            "num_workers": 1,
            "request_timeout_s": 60.0,
        }
        settings.update(overrides)
        return LeanConfig.minilean(theorems_file=theorems_file, **settings)

    return build
