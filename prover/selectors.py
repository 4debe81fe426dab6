"""Read-side queries shared by pages and the API, each a fixed number of SQL queries whatever the data size."""

from django.db.models import Count, QuerySet

from .models import Dataset, ProofNode, Run, RunMetric, Theorem, TheoremResult


def datasets_with_counts() -> QuerySet[Dataset]:
    return Dataset.objects.annotate(theorem_count=Count("theorems", distinct=True)).order_by("name")


def recent_runs(limit: int = 50) -> QuerySet[Run]:
    return Run.objects.select_related("owner", "dataset").order_by("-created_at", "-id")[:limit]


def subtree(run_id: int, theorem_id: int, *, parent: int | None, depth: int) -> QuerySet[ProofNode]:
    """Nodes of one proof tree below `parent` (None: the whole tree from the root) down to `depth` levels,
    in (depth, node id) order: one query whatever the tree's size."""
    nodes = ProofNode.objects.filter(run_id=run_id, theorem_id=theorem_id)
    if parent is None:
        return nodes.filter(depth__lt=depth).order_by("depth", "node_id")
    anchor = nodes.filter(node_id=parent).values_list("depth", flat=True).first()
    if anchor is None:
        return nodes.none()
    # Depth alone cannot tell subtrees apart; the ids of the subtree's upper levels come from one recursive CTE.
    return nodes.filter(node_id__in=_descendant_ids(run_id, theorem_id, parent, depth)).order_by("depth", "node_id")


def _descendant_ids(run_id: int, theorem_id: int, parent: int, depth: int) -> list[int]:
    from django.db import connection

    table = ProofNode._meta.db_table
    sql = f"""
        WITH RECURSIVE sub(node_id, level) AS (
            SELECT node_id, 0 FROM {table} WHERE run_id = %s AND theorem_id = %s AND node_id = %s
            UNION ALL
            SELECT n.node_id, sub.level + 1 FROM {table} n JOIN sub ON n.parent_node_id = sub.node_id
            WHERE n.run_id = %s AND n.theorem_id = %s AND sub.level < %s
        ) SELECT node_id FROM sub"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_id, theorem_id, parent, run_id, theorem_id, depth])
        return [row[0] for row in cursor.fetchall()]


def run_results(run: Run) -> QuerySet[TheoremResult]:
    return TheoremResult.objects.filter(run=run).select_related("theorem").order_by("theorem__name")


def proof_steps(run: Run) -> dict[int, list[dict]]:
    """{theorem id: the steps of its proof in this run, root first, each with the tactic and its source (policy,
    probe or replay)}: the path from the proof's terminal node up to the root, for every proved theorem."""
    terminals = ProofNode.objects.filter(run=run, is_terminal=True, status=ProofNode.Status.PROVED)
    wanted = {(t.theorem_id, t.node_id) for t in terminals}
    if not wanted:
        return {}
    nodes: dict[tuple[int, int], ProofNode] = {
        (n.theorem_id, n.node_id): n for n in ProofNode.objects.filter(
            run=run, theorem_id__in={t for t, _ in wanted}).exclude(kind="failed_tactic").only(
            "theorem_id", "node_id", "parent_node_id", "tactic", "source")}
    proofs: dict[int, list[dict]] = {}
    for theorem_id, node_id in sorted(wanted):
        steps, node = [], nodes.get((theorem_id, node_id))
        while node is not None and node.parent_node_id is not None:
            steps.append({"tactic": node.tactic, "source": node.source or "policy"})
            node = nodes.get((theorem_id, node.parent_node_id))
        proofs.setdefault(theorem_id, steps[::-1])  # the first proof found of a theorem is its proof
    return proofs


def theorem_history(theorem: Theorem) -> dict:
    """Every attempt at this statement (in any dataset, by content hash), the first run that proved it and the
    shortest proof found."""
    attempts = list(
        TheoremResult.objects.filter(theorem__content_hash=theorem.content_hash)
        .select_related("run", "theorem__dataset").order_by("run__created_at", "run_id")
    )
    proved = [a for a in attempts if a.status == TheoremResult.Status.PROVED]
    shortest = min(proved, key=lambda a: (len(a.proof_tactics) or len(a.proof.splitlines()), a.tokens), default=None)
    return {"attempts": attempts, "first_proof": proved[0] if proved else None, "shortest": shortest}


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each declared Celery queue (the Redis broker keeps a queue as a list of its name)."""
    from burnqed_web.celery import QUEUES
    from jobs.live import redis_client

    client = redis_client()
    return {queue: int(client.llen(queue)) for queue in QUEUES}


def pool_health(run: Run) -> str:
    """The Lean pools' last counters, summed over the run's workers, as the run page's counter shows them."""
    totals: dict[str, float] = {}
    for name, value in RunMetric.objects.filter(run=run, name__startswith="pool.").values_list("name", "value"):
        key = name.rsplit(".", 1)[1]
        totals[key] = max(totals.get(key, 0.0), value) if key == "queue_wait_max_s" else totals.get(key, 0.0) + value
    if not totals:
        return "–"
    return (f"{int(totals.get('workers', 0))} workers · {int(totals.get('restarts', 0))} · {int(totals.get('timeouts', 0))}"
            f" · {totals.get('queue_wait_max_s', 0.0):.1f} s")


def comparison_curves(comparison, run_a: Run, run_b: Run) -> dict:
    """Solved-vs-compute step curves of a comparison, one per run, as the compare page plots them."""
    def steps(run: Run, costs: list[int]) -> dict:
        return {"x": [0, *costs], "y": [0, *range(1, len(costs) + 1)], "name": f"#{run.pk} {run.name}"}

    return {cost: [steps(run_a, a), steps(run_b, b)] for cost, (a, b) in comparison.curves.items()}
