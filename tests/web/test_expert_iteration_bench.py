"""`bench/expert_iteration.py --tiny`: the command that produces the README's expert-iteration table, run at tiny
scale (a tiny random model, three statements of each part) on the test database with its own worker and
server: three iterations, and every figure of the table either measured or said why it could not be."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import child_env, consumers_paused
from tests.faults.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["iteration", "LLM-only", "LLM+EBM", "A", "B", "C", "centroid_l2", "linear_probe_acc", "rank1_d4"]
FRACTION = re.compile(r"^\d+/3$")
NUMBER = re.compile(r"^-?\d+\.\d{3}$")


def table_of(output: str) -> list[list[str]]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == COLUMNS[:2])
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


@pytest.fixture
def suite_worker_aside(celery_worker_process):
    """The suite's worker stops consuming while the bench runs its own: workers share one artifact folder, and
    the suite's has another, so it could not merge or reach what the bench's worker writes."""
    with consumers_paused(celery_worker_process, ("gpu", "cpu", "default")):
        yield


@pytest.mark.django_db(transaction=True)
def test_tiny_expert_iteration_produces_every_figure_of_the_table(tmp_path, researcher, suite_worker_aside):
    # `researcher`: the role groups (a migration makes them; this test's database is flushed between tests)
    env = child_env(BURNQED_VAR_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "bench/expert_iteration.py", "--tiny", "--iterations", "3", "--port", str(free_port()),
         "--name", "tiny-test"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    rows = table_of(done.stdout)
    assert [row[0] for row in rows] == ["0", "1", "2"], done.stdout[-3000:]
    base, *trained = rows
    assert FRACTION.match(base[1]), base  # the base model's held-out proof rate, probes off
    assert NUMBER.match(base[6]), base  # its embeddings on the probe set
    for row in trained:
        assert len(row) == len(COLUMNS), row
        llm, ebm, a, b, c, centroid, probe_acc, rank1 = row[1:]
        assert all(FRACTION.match(rate) for rate in (llm, a, b, c)), row  # c: the jointly trained head
        assert re.match(r"^\d+/3 \([ABC]\)$", ebm), row  # the better EBM config, named
        assert NUMBER.match(centroid), row
        for figure in (probe_acc, rank1):  # three statements rarely give enough states: then the reason shows
            assert NUMBER.match(figure) or figure.startswith("n/a: "), row
    # the trained policy's own tactics fuzz minilean: a counterexample would be a hole it learned to use
    check = next(line for line in done.stdout.splitlines() if line.startswith("policy check: "))
    assert check.endswith("counterexamples: 0") or "applied no tactic" in check, check
    walls = [line for line in done.stdout.splitlines() if line.strip().startswith("iteration ") and ":" in line]
    assert len(walls) == 3, done.stdout[-2000:]
    for line in walls[1:]:  # every step of a training iteration, with its wall time in seconds
        for step in ("train_policy", "ebm_a", "ebm_b", "eval_llm", "eval_a", "eval_b", "eval_c", "search", "probes"):
            assert re.search(rf"\b{step} \d+\b", line), line
    # hybrid against pass@N with the last policy, at equal generated tokens, by the one comparison rule
    strategies = done.stdout[done.stdout.index("hybrid against pass@2"):].splitlines()
    assert re.search(r"hybrid \d+/3 with \d+ tokens, pass@2 \d+/3 with \d+ tokens", strategies[0]), strategies[0]
    assert re.search(r"at <= \d+ generated tokens per theorem: hybrid \d+/3 .* pass@2 \d+/3", strategies[1]), strategies
