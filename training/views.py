import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from jobs.errors import ServiceError
from jobs.pages import require_launch, viewer_required
from jobs.params import page_id

from .forms import STARTING_CONFIGS, TrainingLaunchForm
from .models import TrainingRun
from .services import cancel_training, checkpoints_of, launch_training


@viewer_required
def training_detail(request, training_id: int):
    training = get_object_or_404(TrainingRun.objects.select_related("base_checkpoint"), pk=training_id)
    return render(request, "training/training_detail.html",
                  {"training": training, "checkpoints": checkpoints_of(training)})


@viewer_required
def training_new(request):
    require_launch(request, "launching training")
    if request.method == "POST":
        form = TrainingLaunchForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                training = launch_training(user=request.user, kind=data["kind"], config=data["config"],
                                           name=data["name"], base_checkpoint=data["base_checkpoint"],
                                           inputs=list(data["inputs"]))
            except ServiceError as exc:
                field = (exc.field or "").split(".")[0]
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Training run {training.pk} queued.")
                return redirect("page-training", training_id=training.pk)
    else:
        clone = TrainingRun.objects.filter(pk=page_id(request.GET, "clone") or 0).first()
        kind = clone.kind if clone else request.GET.get("kind", "sft")
        config = clone.config if clone else STARTING_CONFIGS.get(kind, {})
        inputs = list(clone.inputs.values_list("pk", flat=True)) if clone else [
            int(i) for i in request.GET.getlist("inputs") if i.isdecimal() and i.isascii()]
        form = TrainingLaunchForm(initial={"kind": kind, "name": f"{clone} (copy)" if clone else "",
                                           "base_checkpoint": clone.base_checkpoint_id if clone else None,
                                           "inputs": inputs, "config": json.dumps(config, indent=2)})
    return render(request, "training/training_new.html", {"form": form})


@require_POST
@viewer_required
def training_cancel(request, training_id: int):
    require_launch(request, "cancelling training runs")
    training = get_object_or_404(TrainingRun, pk=training_id)
    try:
        cancel_training(user=request.user, training=training)
        messages.success(request, f"Training run {training.pk}: cancel requested.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("page-training", training_id=training.pk)
