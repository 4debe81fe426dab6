"""Dashboard pages: server-rendered, thin over selectors."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def home(request):
    return render(
        request,
        "prover/home.html",
        {"datasets": selectors.datasets_with_counts(), "runs": selectors.recent_runs()},
    )
