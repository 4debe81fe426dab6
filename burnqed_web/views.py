"""The pages that show every app at once: the home page (datasets, runs, training runs)."""

from django.http import HttpResponseBadRequest
from django.shortcuts import render

from iterations.models import Iteration
from jobs.pages import viewer_required
from prover import selectors as prover_selectors
from training import selectors as training_selectors


@viewer_required
def home(request):
    return render(request, "home.html", {"datasets": prover_selectors.datasets_with_counts(),
                                         "runs": prover_selectors.recent_runs(),
                                         "trainings": training_selectors.recent_training_runs(),
                                         "iterations": Iteration.objects.select_related("owner")[:20]})


def bad_request(request, exception=None):
    """A 400 that says which parameter was wrong (the message of the BadRequest raised), as plain text."""
    return HttpResponseBadRequest(f"Bad request: {exception}" if exception else "Bad request",
                                  content_type="text/plain; charset=utf-8")
