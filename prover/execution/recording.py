"""Engine events -> ProofNode rows and live frames, written in batches from a background thread.

The engine calls the recorder from its event loop, so the call only queues the event. A thread drains the
queue every `interval` seconds: it inserts the new nodes (COPY / executemany), applies the updates (scores,
statuses, expansions, DAG merges) in the same transaction, and after the commit sends one numbered frame
with the batch to the run's channel group. At ~10 frames/s the browser stays smooth and the database sees
few, large writes.
"""

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Mapping

from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from jobs.bulk import insert_rows
from jobs.live import JobChannel, send_frame
from prover.engine.events import SearchEvent
from prover.engine.result import verdict_of

from ..models import ProofNode, Run, RunMetric, TheoremResult

log = logging.getLogger(__name__)

NODE_COLUMNS = (
    "run_id", "theorem_id", "node_id", "parent_node_id", "tactic", "goal_text", "goal_hash", "depth", "log_prob",
    "energy", "status", "is_terminal", "expansion_order", "merged_count", "lean_ms", "generate_ms", "error", "kind",
    "num_goals", "source", "created_at",
)
_STOP = object()


def goal_hash(goal_text: str) -> str:
    return hashlib.sha256(goal_text.encode()).hexdigest() if goal_text else ""


class RunRecorder:
    def __init__(self, channel: JobChannel, theorem_ids: Mapping[str, int], *, interval: float = 0.1) -> None:
        self.channel = channel
        self.run_id = channel.id
        self.theorem_ids = dict(theorem_ids)
        self.interval = interval
        self.error: BaseException | None = None
        self.frames_sent = 0
        self._last_pool: dict | None = None
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._drain, name=f"recorder-run-{channel.id}", daemon=True)
        self._thread.start()

    def __call__(self, event: SearchEvent) -> None:
        self._queue.put(event)

    def note_versions(self, versions: dict) -> None:
        """Versions a backend reported once it started (e.g. the Lean pool's), merged into the run's."""
        self._queue.put(("versions", versions))

    def note_pool(self, stats: dict) -> None:
        """The Lean pool's counters, forwarded live (not stored: the run page shows the latest)."""
        self._queue.put(("pool", stats))

    def close(self) -> None:
        """Flush everything queued so far and stop the thread; raises if a write failed."""
        self._queue.put(_STOP)
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"recording run {self.run_id} failed: {self.error}") from self.error

    def _drain(self) -> None:
        stopping = False
        try:
            while not stopping:
                batch: list[SearchEvent] = []
                deadline = time.monotonic() + self.interval
                while True:
                    try:
                        item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(item)
                if batch:
                    self._flush(batch)
            self._keep_pool_health()
        except BaseException as exc:  # keep the engine running; close() reports it
            log.exception("recorder of run %s failed", self.run_id)
            self.error = exc
        finally:
            close_old_connections()
            connection.close()

    def _keep_pool_health(self) -> None:
        """The pool's last counters as metrics `pool.<host>.<name>`: the run page shows them once the run ended."""
        stats = self._last_pool
        if not stats:
            return
        now = timezone.now()
        values = {key: stats.get(key) for key in POOL_HEALTH_KEYS}
        values["restarts"] = sum((stats.get("restarts") or {}).values())
        rows = [(self.run_id, f"pool.{stats['worker']}.{key}", 0, float(value), now)
                for key, value in values.items() if isinstance(value, int | float)]
        insert_rows(RunMetric._meta.db_table, ("run_id", "name", "step", "value", "recorded_at"), rows)

    def _flush(self, events: list[SearchEvent]) -> None:
        now = timezone.now()
        rows, merges, expansions, energies, statuses, finished, metrics = [], [], [], [], [], [], []
        payload = []
        versions: dict = {}
        for event in events:
            if isinstance(event, tuple):
                if event[0] == "versions":
                    versions.update(event[1])
                else:
                    self._last_pool = event[1]
                    payload.append({"type": "pool_stats", **event[1]})
                continue
            theorem_id = self.theorem_ids[event.theorem_name]
            data = event.to_dict()
            data["theorem_id"] = theorem_id
            payload.append(data)
            kind = event.type
            if kind == "node_added":
                rows.append((
                    self.run_id, theorem_id, event.node_id, event.parent_id, event.tactic, event.goal_text,
                    goal_hash(event.goal_text), event.depth, data["log_prob"], data["energy"], event.status,
                    event.kind == "terminal", event.expansion_order, 0, event.lean_ms, 0.0, event.error, event.kind,
                    event.num_goals, event.source, now,
                ))
            elif kind == "edge_added":
                merges.append((self.run_id, theorem_id, event.node_id))
            elif kind == "node_expanded":
                expansions.append((event.expansion_order, event.generate_ms, self.run_id, theorem_id, event.node_id))
            elif kind == "nodes_scored":
                energies.extend((s["energy"], self.run_id, theorem_id, s["node_id"]) for s in data["scores"])
            elif kind == "node_status_changed":
                statuses.extend((c["status"], self.run_id, theorem_id, c["node_id"]) for c in data["changes"])
            elif kind == "theorem_finished":
                finished.append((theorem_id, data))
            elif kind == "metric" and data["value"] is not None:
                metrics.append((self.run_id, f"{event.theorem_name}/{event.name}", event.step, data["value"], now))
        table = ProofNode._meta.db_table
        where = "WHERE run_id = %s AND theorem_id = %s AND node_id = %s"
        with transaction.atomic():
            if rows:
                insert_rows(table, NODE_COLUMNS, rows)
            if metrics:
                insert_rows(RunMetric._meta.db_table, ("run_id", "name", "step", "value", "recorded_at"), metrics)
            with connection.cursor() as cursor:
                for sql, params in (
                    (f"UPDATE {table} SET merged_count = merged_count + 1 {where}", merges),
                    (f"UPDATE {table} SET expansion_order = %s, generate_ms = %s {where}", expansions),
                    (f"UPDATE {table} SET energy = %s {where}", energies),
                    (f"UPDATE {table} SET status = %s {where}", statuses),
                ):
                    if params:
                        cursor.executemany(sql, params)
            for theorem_id, data in finished:
                record_theorem_result(self.run_id, theorem_id, data["result"], now)
            if versions:
                current = Run.objects.filter(pk=self.run_id).values_list("versions", flat=True).get()
                Run.objects.filter(pk=self.run_id).update(versions={**current, **versions})
            if payload:
                send_frame(self.channel, "events", {"events": payload})  # sent once this commits
                self.frames_sent += 1


POOL_HEALTH_KEYS = ("workers", "requests", "timeouts", "memory_recycles", "states_lost", "queue_wait_max_s",
                    "busy_fraction")


def record_theorem_result(run_id: int, theorem_id: int, result: dict, now) -> None:
    """Store one finished search on its TheoremResult row and add it to the run's counters.

    Tokens are generated (completion) tokens, the unit every comparison uses (prover.engine.comparison).
    The update only touches a row still unfinished, so a result that arrives twice (a redelivered chunk) is
    counted once."""
    stats = result.get("stats", {})
    tokens = int(stats.get("completion_tokens", 0))
    at_proof = result.get("usage_at_proof") or {}
    status = TheoremResult.Status(verdict_of(result["failure_reason"]).value)
    updated = TheoremResult.objects.filter(run_id=run_id, theorem_id=theorem_id, status__in=("pending", "running")).update(
        status=status, failure_reason=result["failure_reason"], error=result.get("error", ""),
        prompt_tokens=int(stats.get("prompt_tokens", 0)),
        tokens_to_proof=at_proof.get("completion_tokens"), nodes_to_proof=at_proof.get("nodes_expanded"),
        proof=result.get("proof_text", "") if result["proved"] else "",
        proof_tactics=result.get("proof_tactics", []) if result["proved"] else [],
        nodes_expanded=result.get("nodes_expanded", 0), total_states=result.get("total_states", 0),
        max_depth=result.get("max_depth_reached", 0), tokens=tokens, wall_ms=int(result.get("wall_time_ms", 0)),
        lean_ms=int(stats.get("lean_ms", 0)), generate_ms=int(stats.get("generate_ms", 0)),
        ebm_ms=int(stats.get("ebm_ms", 0)), stats=stats, finished_at=now,
    )
    if not updated:
        return
    Run.objects.filter(pk=run_id).update(
        theorems_done=F("theorems_done") + 1,
        theorems_proved=F("theorems_proved") + (1 if status == TheoremResult.Status.PROVED else 0),
        nodes_expanded=F("nodes_expanded") + result.get("nodes_expanded", 0),
        tokens=F("tokens") + tokens,
        lean_ms=F("lean_ms") + int(stats.get("lean_ms", 0)),
        generate_ms=F("generate_ms") + int(stats.get("generate_ms", 0)),
        ebm_ms=F("ebm_ms") + int(stats.get("ebm_ms", 0)),
    )
