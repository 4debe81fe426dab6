"""Two runs side by side through the one comparison rule (prover.engine.comparison): the compare page, the
API and `manage.py compare_runs` all call `compare_runs`."""

from prover.engine.comparison import Attempt, Comparison, compare

from ..models import Run, TheoremResult


def attempts_of(run: Run) -> list[Attempt]:
    """A run's results as attempts: a proof costs what was spent when it was found, a failure all it spent."""
    rows = TheoremResult.objects.filter(run=run).exclude(status__in=("pending", "running")).values_list(
        "theorem__name", "status", "tokens", "nodes_expanded", "tokens_to_proof", "nodes_to_proof")
    attempts = []
    for name, status, tokens, nodes, tokens_to_proof, nodes_to_proof in rows:
        proved = status == TheoremResult.Status.PROVED
        attempts.append(Attempt(name, proved, tokens_to_proof if proved and tokens_to_proof is not None else tokens,
                                nodes_to_proof if proved and nodes_to_proof is not None else nodes))
    return attempts


def compare_runs(run_a: Run, run_b: Run) -> Comparison:
    return compare(attempts_of(run_a), attempts_of(run_b), totals=(run_a.theorems_total, run_b.theorems_total))
