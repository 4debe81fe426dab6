"""Dashboard pages: server-rendered, thin over selectors and services. Live parts are fed by the websocket."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from jobs.models import Artifact
from jobs.pages import require_launch, viewer_required
from jobs.params import page_id

from . import selectors
from .forms import RunLaunchForm
from .models import Run, Theorem
from .services import ServiceError, cancel_run, compare_runs, launch_run
from .services.launch import deployment_defaults


@viewer_required
def runs_table(request):
    """The home page's run table alone: htmx refreshes it every few seconds, so statuses move on their own."""
    return render(request, "prover/_runs_table.html", {"runs": selectors.recent_runs()})


@viewer_required
def run_new(request):
    require_launch(request, "launching runs")
    clone = None
    if request.method == "POST":
        form = RunLaunchForm(request.POST)
        clone_id = page_id(request.POST, "cloned_from")
        if form.is_valid():
            clone = Run.objects.filter(pk=clone_id or 0).first()
            try:
                run = launch_run(user=request.user, config=form.to_config(), name=form.cleaned_data["name"],
                                 cloned_from=clone)
            except ServiceError as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(request, f"Run {run.pk} launched: {run.theorems_total} theorems.")
                return redirect("page-run", run_id=run.pk)
    else:
        if (clone_id := page_id(request.GET, "clone")) is not None:
            clone = get_object_or_404(Run, pk=clone_id)
            initial = RunLaunchForm.initial_from_config(clone.config)
            initial["name"] = f"{clone.name} (copy)"
        else:
            initial = RunLaunchForm.initial_for_new(deployment_defaults())
        form = RunLaunchForm(initial=initial)
    return render(request, "prover/run_new.html", {"form": form, "clone": clone})


@viewer_required
def run_detail(request, run_id: int):
    run = get_object_or_404(Run.objects.select_related("dataset", "owner", "cloned_from"), pk=run_id)
    trajectories = Artifact.made_by(run).filter(kind=Artifact.Kind.TRAJECTORIES).first()
    results = list(selectors.run_results(run))
    steps = selectors.proof_steps(run)
    for result in results:
        result.steps = steps.get(result.theorem_id, [])
    return render(request, "prover/run_detail.html", {"run": run, "results": results,
                                                      "pool_health": selectors.pool_health(run),
                                                      "trajectories": trajectories})


@require_POST
@viewer_required
def run_cancel(request, run_id: int):
    require_launch(request, "cancelling runs")
    run = get_object_or_404(Run, pk=run_id)
    try:
        cancel_run(user=request.user, run=run)
        messages.success(request, f"Run {run.pk}: cancel requested.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("page-run", run_id=run.pk)


@viewer_required
def theorem_detail(request, theorem_id: int):
    theorem = get_object_or_404(Theorem.objects.select_related("dataset"), pk=theorem_id)
    return render(request, "prover/theorem_detail.html", {"theorem": theorem, **selectors.theorem_history(theorem)})


@viewer_required
def compare(request):
    runs = selectors.recent_runs(200)
    a_id, b_id = request.GET.get("a"), request.GET.get("b")
    context = {"runs": runs, "a": a_id, "b": b_id}
    if a_id and b_id:
        try:
            run_a, run_b = Run.objects.get(pk=page_id(request.GET, "a")), Run.objects.get(pk=page_id(request.GET, "b"))
        except Run.DoesNotExist:
            raise Http404("no such run") from None
        comparison = compare_runs(run_a, run_b)
        context.update(run_a=run_a, run_b=run_b, comparison=comparison.to_dict(),
                       curves=selectors.comparison_curves(comparison, run_a, run_b))
    return render(request, "prover/compare.html", context)


@viewer_required
def queues_fragment(request):
    """Tasks waiting in each Celery queue, as a small HTML fragment the run page polls (htmx)."""
    from django.http import HttpResponse
    from django.utils.html import format_html_join

    return HttpResponse(format_html_join(" · ", "{}: {}", selectors.queue_lengths().items()))
