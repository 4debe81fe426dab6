"""Read-side views of iterations: the chain an iteration belongs to, BurnQED's success-metrics table across
it, and the A -> B -> C attribution, every figure with the job that produced it and what it cost."""

from dataclasses import dataclass

from . import plan as steps
from .models import Iteration, IterationStep
from .targets import PROBE_METRICS, TARGETS


def chain_of(iteration: Iteration) -> list[Iteration]:
    """The whole chain: the root, then each iteration's latest child, to the end."""
    chain = iteration.chain()
    node = iteration
    while (child := node.children.order_by("-created_at").first()) is not None:
        chain.append(child)
        node = child
    return chain


@dataclass(frozen=True)
class Figure:
    value: float | None
    link: str = ""  # the page of the job that produced it
    label: str = ""  # e.g. "3/10"
    nodes: int | None = None
    tokens: int | None = None
    grade: str = ""
    source: str = ""  # which config, for a best-of figure


def _done(iteration: Iteration) -> dict[str, IterationStep]:
    return {s.name: s for s in iteration.steps.filter(status=IterationStep.Status.DONE)}


def _eval(step: IterationStep | None) -> Figure:
    if step is None or not step.outputs.get("total"):
        return Figure(None)
    out = step.outputs
    return Figure(out["proved"] / out["total"], f"/runs/{out['run']}/", f"{out['proved']}/{out['total']}",
                  out.get("nodes"), out.get("tokens"))


def _why_missing(metric: str, values: dict) -> str:
    """A probe figure the probe run could not compute, said as the reason (a small probe set, typically)."""
    if metric.endswith("rank1_depth4"):
        return "n/a: no decision point at depth 4+"
    if metric.endswith("linear_probe_acc"):
        return f"n/a: {values.get('probe/size', 0):.0f} probe states, fewer than 2 of a label"
    return "n/a"


def _probe(step: IterationStep | None, metric: str) -> Figure:
    if step is None:
        return Figure(None)
    values = step.outputs.get("metrics", {})
    value = values.get(metric)
    if value is None:  # rank-1 is per head: the best head's
        per_head = {k.split("/")[1]: v for k, v in values.items()
                    if k.startswith("probe/") and k.endswith("/" + metric.split("/")[-1]) and k.count("/") == 2}
        if per_head:
            source, value = max(per_head.items(), key=lambda kv: kv[1])
            return Figure(value, f"/training/{step.outputs['training']}/", f"{value:.3f}", source=source)
        return Figure(None, f"/training/{step.outputs['training']}/", _why_missing(metric, values))
    return Figure(value, f"/training/{step.outputs['training']}/", f"{value:.3f}")


def iteration_figures(iteration: Iteration) -> dict[str, Figure]:
    done = _done(iteration)
    figures = {"llm": _eval(done.get(steps.EVAL_LLM))}
    for config, step in (("A", steps.EVAL_A), ("B", steps.EVAL_B), ("C", steps.EVAL_C)):
        figures[config] = _eval(done.get(step))
    with_ebm = [(config, figures[config]) for config in "ABC" if figures[config].value is not None]
    if with_ebm:
        config, best = max(with_ebm, key=lambda item: item[1].value)
        figures["ebm"] = Figure(best.value, best.link, best.label, best.nodes, best.tokens, source=config)
    else:
        figures["ebm"] = Figure(None)
    for key, metric in PROBE_METRICS.items():
        figures[key] = _probe(done.get(steps.PROBES), metric)
    return figures


def success_table(chain: list[Iteration]) -> list[dict]:
    """One row per metric of the success table (docs/expert-iteration.md#success-metrics), one cell per iteration, graded against its target and red line."""
    columns = [iteration_figures(iteration) for iteration in chain]
    rows = []
    for target in TARGETS:
        first_value = columns[0][target.key].value if columns else None
        cells = []
        for iteration, figures in zip(chain, columns, strict=True):
            figure = figures[target.key]
            cells.append({"figure": figure, "grade": target.grade(figure.value, iteration.number, first_value),
                          "target": target.target_for(iteration.number, first_value)})
        rows.append({"target": target, "cells": cells})
    return rows


def attribution(iteration: Iteration) -> list[dict]:
    """A -> B (did the new policy's embeddings help the decoupled EBM?), B -> C (did joint training help the
    head?), A -> C (the whole step): proof-rate differences at the same node budget."""
    figures = iteration_figures(iteration)
    out = []
    for start, end, question in (("A", "B", "embeddings of the new policy"), ("B", "C", "a jointly trained head"),
                                 ("A", "C", "the whole iteration")):
        a, b = figures[start], figures[end]
        out.append({"from": start, "to": end, "question": question, "start": a, "end": b,
                    "delta": b.value - a.value if a.value is not None and b.value is not None else None})
    return out
