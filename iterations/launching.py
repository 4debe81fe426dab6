"""What each step of an iteration launches (a run or a training run of the other apps), and what it leaves.

Every input is found from the chain's earlier steps: the policy an iteration uses is the adapter its own policy
step trained, else its parent's policy, else the chain's base adapter (else the base model); its training data
is what the searches of earlier iterations found, plus seed data.
"""


from jobs.models import Artifact
from prover.services import launch_run
from training.models import MetricPoint
from training.services import launch_training

from . import plan as steps
from .models import Iteration, IterationStep
from .selectors import chain_of
from .spec import IterationSpec


def _spec(iteration: Iteration) -> IterationSpec:
    return IterationSpec.from_mapping(iteration.config)


def _output(iteration: Iteration, step_name: str, key: str) -> Artifact | None:
    step = iteration.steps.filter(name=step_name, status=IterationStep.Status.DONE).first()
    pk = (step.outputs.get("artifacts") or {}).get(key) if step else None
    return Artifact.objects.filter(pk=pk).first() if pk else None


def starting_policy(iteration: Iteration) -> Artifact | None:
    """The LoRA adapter an iteration starts from: its parent's policy (config A's), or the chain's base adapter
    (None: the base model)."""
    if iteration.parent is not None:
        return policy_of(iteration.parent)
    base = _spec(iteration).base_adapter
    return Artifact.objects.filter(pk=base).first() if base else None


def policy_of(iteration: Iteration) -> Artifact | None:
    """The LoRA adapter of the policy this iteration evaluates and searches with: the one it trained, else the
    one it started from."""
    return _output(iteration, steps.TRAIN_POLICY, "adapter") or starting_policy(iteration)


def earlier_trajectories(iteration: Iteration) -> list[Artifact]:
    """What the searches of the iterations before this one found, oldest first."""
    found = [_output(earlier, steps.SEARCH, "trajectories") for earlier in iteration.chain()[:-1]]
    return [artifact for artifact in found if artifact is not None]


def chain_probe_set(iteration: Iteration) -> Artifact | None:
    """The chain's one probe set (built by the first probes step that could), so every policy is measured alike;
    an iteration measured again later finds the set a later iteration built."""
    for earlier in chain_of(iteration):
        probe_set = _output(earlier, steps.PROBES, "probe_set")
        if probe_set is not None:
            return probe_set
    return None


def model_path(spec: IterationSpec) -> str:
    if spec.model_path:
        return spec.model_path
    from prover.serving.embedded_model import ensure_embedded_model

    return str(ensure_embedded_model())


def _path(artifact: Artifact | None) -> str:
    return artifact.path if artifact is not None else ""


def missing_kind(name: str, spec: IterationSpec) -> str:
    """The training kind step `name` needs that this service has not installed ("" when none is missing).

    The probes step of a service without the probes loop is skipped, saying why, rather than failing the chain:
    every other figure of the table still stands (docs/expert-iteration.md#steps)."""
    from training.loops import LOOPS

    kind = {steps.PROBES: "probes", steps.TRAIN_POLICY: spec.policy_training}.get(name)
    return kind if kind and kind not in LOOPS else ""


def launch_step(iteration: Iteration, name: str):
    """Launch the job of step `name` of `iteration`; returns it (a prover Run or a TrainingRun)."""
    spec, user = _spec(iteration), iteration.owner
    label = f"{iteration} · {name}"
    policy = policy_of(iteration)
    if name == steps.TRAIN_POLICY:
        base = starting_policy(iteration)
        config = {"model_path": model_path(spec), **spec.loop_settings(spec.policy_training)}
        if base is not None:
            config.setdefault("init_adapter", base.path)
        inputs = [*Artifact.objects.filter(pk__in=spec.seed_data), *earlier_trajectories(iteration)]
        return launch_training(user=user, kind=spec.policy_training, config=config, name=label,
                               base_checkpoint=base, inputs=inputs)
    if name in (steps.EBM_A, steps.EBM_B):
        adapter = starting_policy(iteration) if name == steps.EBM_A else policy
        config = {"model_path": model_path(spec), "adapter": _path(adapter), **spec.ebm}
        return launch_training(user=user, kind="ebm", config=config, name=label, base_checkpoint=adapter,
                               inputs=earlier_trajectories(iteration))
    if name in steps.EVALS:
        adapter = starting_policy(iteration) if name == steps.EVAL_A else policy
        head = {steps.EVAL_A: _output(iteration, steps.EBM_A, "head"),
                steps.EVAL_B: _output(iteration, steps.EBM_B, "head"),
                steps.EVAL_C: _output(iteration, steps.TRAIN_POLICY, "head")}.get(name)
        config = {**spec.run, "dataset": spec.eval_dataset, "split": spec.eval_split, "limit": spec.eval_limit,
                  "search": spec.search.to_dict(), "adapter": _path(adapter), "ebm_path": _path(head)}
        return launch_run(user=user, config=config, name=label)
    if name == steps.SEARCH:
        config = {**spec.run, "dataset": spec.train_dataset, "split": spec.train_split, "limit": spec.train_limit,
                  "search": spec.train_search.to_dict(), "adapter": _path(policy)}
        return launch_run(user=user, config=config, name=label)
    if name == steps.PROBES:
        probe_set = chain_probe_set(iteration)
        heads = {config: _path(_output(iteration, step, "head")) for config, step in (
            ("A", steps.EBM_A), ("B", steps.EBM_B), ("C", steps.TRAIN_POLICY))}
        config = {"model_path": model_path(spec), "adapter": _path(policy),
                  "heads": {k: v for k, v in heads.items() if v}}
        if probe_set is not None:
            config["probe_set"] = probe_set.path
        trajectories = [] if probe_set is not None else [
            *earlier_trajectories(iteration), *filter(None, [_output(iteration, steps.SEARCH, "trajectories")])]
        return launch_training(user=user, kind="probes", config=config, name=label, base_checkpoint=policy,
                               inputs=trajectories)  # all searched so far: the first search may be too shallow
    raise ValueError(f"unknown iteration step {name!r}")


def collect_outputs(name: str, job) -> dict:
    """What a finished step left: artifact ids by role, and the figures the iteration page shows."""
    made = {a.kind: a.pk for a in Artifact.made_by(job)}
    if job.channel_kind == "run":
        return {"run": job.pk, "proved": job.theorems_proved, "total": job.theorems_total,
                "nodes": job.nodes_expanded, "tokens": job.tokens,
                "artifacts": {"trajectories": made.get(Artifact.Kind.TRAJECTORIES)}}
    metrics = {}
    for metric, value in MetricPoint.objects.filter(training_run=job).order_by("name", "step").values_list(
            "name", "value"):
        metrics[metric] = value  # the last point of each series
    return {"training": job.pk, "metrics": metrics, "artifacts": {
        "adapter": made.get(Artifact.Kind.LORA), "head": made.get(Artifact.Kind.EBM),
        "probe_set": made.get(Artifact.Kind.PROBE_SET)}}


