"""Which tasks break the queue rules: every task must name itself explicitly and be routed to a declared queue."""

from celery import Celery


def task_rule_violations(app: Celery, declared: tuple[str, ...], routes: dict[str, str], prefix: str = "burnqed.") -> list[str]:
    """One line per task of ours with no explicit `burnqed.` name, no route to a declared queue, or no acks_late."""
    app.loader.import_default_modules()
    problems = []
    for name, task in sorted(app.tasks.items()):
        if name.startswith("celery."):
            continue
        if not name.startswith(prefix):
            problems.append(f"{name}: task names must be explicit and start with {prefix!r}")
        queue = routes.get(name)
        if queue not in declared:
            problems.append(f"{name}: queue {queue!r} is not one of the declared queues {declared}")
        if not task.acks_late:
            problems.append(f"{name}: acks_late must be on (a task lost with its worker is redelivered)")
    return problems
