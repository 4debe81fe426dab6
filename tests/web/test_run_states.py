"""The run state machine: forward only, finished runs never change, and races have one winner."""

import pytest

from jobs.lifecycle import InvalidTransition, transition
from prover.models import Run


@pytest.mark.django_db
def test_a_run_moves_forward_and_stamps_its_times():
    run = Run.objects.create(name="r")
    transition(job=run, to="running")
    assert run.status == "running" and run.started_at is not None
    transition(job=run, to="succeeded")
    assert run.finished and run.finished_at >= run.started_at


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "bad"), [(["running", "succeeded"], "running"), (["cancelled"], "running"), ([], "succeeded")])
def test_illegal_transitions_are_refused(path, bad):
    run = Run.objects.create(name="r")
    for state in path:
        transition(job=run, to=state)
    before = run.status
    with pytest.raises(InvalidTransition, match=f"cannot go from {before} to {bad}"):
        transition(job=run, to=bad)
    run.refresh_from_db()
    assert run.status == before


@pytest.mark.django_db
def test_a_stale_copy_loses_the_race():
    run = Run.objects.create(name="r", status="running")
    stale = Run.objects.get(pk=run.pk)
    transition(job=run, to="cancelled", error="cancelled by user")
    with pytest.raises(InvalidTransition):
        transition(job=stale, to="succeeded")
    run.refresh_from_db()
    assert run.status == "cancelled" and run.error == "cancelled by user"
