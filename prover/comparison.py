"""Two runs side by side: which theorems each proved that the other did not, and proof rates at equal compute.

A theorem's cost is what its search had spent when the proof was found (tokens, expanded nodes); the
solved-vs-compute curve counts the theorems proved within each per-theorem budget. "Equal compute" is the
largest per-theorem budget both runs actually gave every theorem (the smaller of their largest spends), so
neither run gets credit for budget the other never had. Rates use the run's theorem count as the
denominator, errors included.
"""

from dataclasses import dataclass, field

from django.db.models import Max

from .models import Run, TheoremResult


@dataclass
class RunCurve:
    run: Run
    proved: dict[str, TheoremResult]
    total: int
    max_tokens: int = 0  # the most any theorem of the run spent
    max_nodes: int = 0
    tokens: list[int] = field(default_factory=list)  # sorted costs of the proved theorems
    nodes: list[int] = field(default_factory=list)

    def solved_within(self, costs: list[int], budget: float) -> int:
        return sum(1 for cost in costs if cost <= budget)

    def rate(self, solved: int) -> float:
        return solved / self.total if self.total else 0.0


@dataclass
class Comparison:
    a: RunCurve
    b: RunCurve
    only_a: list[str]
    only_b: list[str]
    both: list[str]
    equal_tokens: int
    equal_nodes: int

    def rates(self) -> dict:
        return {
            "tokens": (self.a.rate(self.a.solved_within(self.a.tokens, self.equal_tokens)),
                       self.b.rate(self.b.solved_within(self.b.tokens, self.equal_tokens))),
            "nodes": (self.a.rate(self.a.solved_within(self.a.nodes, self.equal_nodes)),
                      self.b.rate(self.b.solved_within(self.b.nodes, self.equal_nodes))),
        }

    def plot_data(self) -> dict:
        def steps(curve: RunCurve, costs: list[int]) -> dict:
            return {"x": [0, *costs], "y": [0, *range(1, len(costs) + 1)], "name": f"#{curve.run.pk} {curve.run.name}"}

        return {
            "tokens": [steps(self.a, self.a.tokens), steps(self.b, self.b.tokens)],
            "nodes": [steps(self.a, self.a.nodes), steps(self.b, self.b.nodes)],
        }


def _curve(run: Run) -> RunCurve:
    proved = {r.theorem.name: r for r in TheoremResult.objects.filter(run=run, status="proved").select_related("theorem")}
    spent = TheoremResult.objects.filter(run=run).aggregate(tokens=Max("tokens"), nodes=Max("nodes_expanded"))
    curve = RunCurve(run, proved, run.theorems_total, spent["tokens"] or 0, spent["nodes"] or 0)
    curve.tokens = sorted(r.tokens for r in proved.values())
    curve.nodes = sorted(r.nodes_expanded for r in proved.values())
    return curve


def compare_runs(run_a: Run, run_b: Run) -> Comparison:
    a, b = _curve(run_a), _curve(run_b)
    names_a, names_b = set(a.proved), set(b.proved)
    equal_tokens = min(a.max_tokens, b.max_tokens)
    equal_nodes = min(a.max_nodes, b.max_nodes)
    return Comparison(a, b, sorted(names_a - names_b), sorted(names_b - names_a), sorted(names_a & names_b),
                      equal_tokens, equal_nodes)
