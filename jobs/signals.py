"""Signals of the job lifecycle. `job_finished` is sent (with `job=`) once a job of any kind has moved to a
finished status, inside the transaction that moved it: receivers that start more work do it on commit."""

from django.dispatch import Signal

job_finished = Signal()
