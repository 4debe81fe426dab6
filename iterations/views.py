"""Iteration pages: thin over selectors and services. The iteration page updates itself over the websocket."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from jobs.errors import ServiceError
from jobs.models import Artifact
from jobs.pages import require_launch, viewer_required

from . import selectors
from .collapse import centroid_l2_of, is_collapsed
from .forms import IterationLaunchForm
from .models import Iteration
from .plan import DESCRIPTIONS
from .services import cancel_iteration, launch_iteration, resume_iteration


@viewer_required
def iteration_new(request):
    require_launch(request, "launching iterations")
    if request.method == "POST":
        form = IterationLaunchForm(request.POST)
        if form.is_valid():
            try:
                iteration = launch_iteration(user=request.user, config=form.to_config(), name=form.cleaned_data["name"])
            except ServiceError as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(request, f"Iteration {iteration.pk} launched.")
                return redirect("page-iteration", iteration_id=iteration.pk)
    else:
        clone = Iteration.objects.filter(pk=request.GET.get("clone") or 0).first()
        initial = IterationLaunchForm.initial_from_config(clone.config) if clone else {}
        form = IterationLaunchForm(initial={**initial, "name": f"{clone.name} (copy)" if clone else ""})
    return render(request, "iterations/iteration_new.html", {"form": form})


@viewer_required
def iteration_detail(request, iteration_id: int):
    iteration = get_object_or_404(Iteration.objects.select_related("parent", "owner"), pk=iteration_id)
    chain = selectors.chain_of(iteration)
    steps = [(step, DESCRIPTIONS.get(step.name, "")) for step in iteration.steps.order_by("position")]
    return render(request, "iterations/iteration_detail.html", {
        "iteration": iteration, "steps": steps, "chain": chain, "table": selectors.success_table(chain),
        "attribution": selectors.attribution(iteration) if iteration.number else []})


@viewer_required
def step_detail(request, iteration_id: int, position: int):
    iteration = get_object_or_404(Iteration, pk=iteration_id)
    step = get_object_or_404(iteration.steps, position=position)
    return render(request, "iterations/step_detail.html", {
        "iteration": iteration, "step": step, "description": DESCRIPTIONS.get(step.name, ""),
        "artifacts": step.artifacts.all()})


@viewer_required
def artifact_detail(request, artifact_id: int):
    """A checkpoint (or any artifact): its lineage, the job that made it, its probes, the runs that used it."""
    from prover.models import Run

    artifact = get_object_or_404(Artifact, pk=artifact_id)
    lineage, node = [], artifact
    while node is not None:
        lineage.append(node)
        node = node.parent
    used_by = Run.objects.filter(config__adapter=artifact.path) | Run.objects.filter(config__ebm_path=artifact.path)
    return render(request, "iterations/artifact_detail.html", {
        "artifact": artifact, "lineage": lineage, "children": artifact.children.all(),
        "centroid_l2": centroid_l2_of(artifact), "collapsed": is_collapsed(artifact),
        "probes": artifact.derived_runs.filter(kind="probes").order_by("-created_at"),
        "used_by": used_by.order_by("-created_at")[:50]})


@require_POST
@viewer_required
def iteration_cancel(request, iteration_id: int):
    require_launch(request, "cancelling iterations")
    iteration = get_object_or_404(Iteration, pk=iteration_id)
    try:
        cancel_iteration(user=request.user, iteration=iteration)
        messages.success(request, f"Iteration {iteration.pk}: cancel requested.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("page-iteration", iteration_id=iteration.pk)


@require_POST
@viewer_required
def iteration_resume(request, iteration_id: int):
    require_launch(request, "resuming iterations")
    iteration = get_object_or_404(Iteration, pk=iteration_id)
    try:
        resume_iteration(user=request.user, iteration=iteration)
        messages.success(request, f"Iteration {iteration.pk} resumes from its first unfinished step.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("page-iteration", iteration_id=iteration.pk)


@viewer_required
def steps_fragment(request, iteration_id: int):
    """The steps table and the success table alone: the page swaps them in when a frame says a step moved."""
    iteration = get_object_or_404(Iteration, pk=iteration_id)
    chain = selectors.chain_of(iteration)
    steps = [(step, DESCRIPTIONS.get(step.name, "")) for step in iteration.steps.order_by("position")]
    return render(request, "iterations/_live.html", {
        "iteration": iteration, "steps": steps, "chain": chain, "table": selectors.success_table(chain),
        "attribution": selectors.attribution(iteration) if iteration.number else []})
