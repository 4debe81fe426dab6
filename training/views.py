from django.shortcuts import get_object_or_404, render

from prover.views import viewer_required

from .models import TrainingRun


@viewer_required
def training_detail(request, training_id: int):
    training = get_object_or_404(TrainingRun.objects.select_related("base_checkpoint"), pk=training_id)
    return render(request, "training/training_detail.html",
                  {"training": training, "checkpoints": training.checkpoints.order_by("created_at")})
