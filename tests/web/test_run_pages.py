"""The run pages and their API without a worker: launch errors shown alike by the form and the API, the run
page, the tree endpoint paginated by subtree, theorem history, comparison, and constant query counts."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from jobs.bulk import insert_rows
from prover.execution.recording import NODE_COLUMNS
from prover.models import ProofNode, Run, Theorem, TheoremResult
from prover.services import import_dataset

EASY = "\n".join(
    f'{{"name": "t{i}", "formal_statement": "theorem t{i} (x : ℝ) (h : x = {i}) : x + 1 = {i + 1} := by"}}' for i in range(6)
)


@pytest.fixture
def dataset(db):
    return import_dataset(name="easy", text=EASY, format="lean-workbook").dataset


def make_run(dataset, name="r", proved=("t0", "t1"), tokens=100, nodes=5) -> Run:
    run = Run.objects.create(name=name, dataset=dataset, status="succeeded", theorems_total=6, theorems_done=6,
                             theorems_proved=len(proved), config={"search": {"strategy": "best_first"}, "lean": "minilean"})
    for i, theorem in enumerate(Theorem.objects.filter(dataset=dataset).order_by("name")):
        ok = theorem.name in proved
        TheoremResult.objects.create(run=run, theorem=theorem, status="proved" if ok else "failed",
                                     failure_reason="proved" if ok else "frontier_exhausted",
                                     proof="  linarith" if ok else "", proof_tactics=["intros", "linarith"][: 1 + i % 2] if ok else [],
                                     tokens=tokens * (i + 1), nodes_expanded=nodes * (i + 1))
    return run


def make_tree(run, theorem, size: int) -> None:
    """A tree of `size` nodes: node k's parent is (k - 1) // 3, plus one failed tactic under the root."""
    rows = [(run.pk, theorem.pk, k, None if k == 0 else (k - 1) // 3, f"tac{k}", f"x : ℝ\n⊢ goal {k}", "", 0 if k == 0 else 1 + (k > 3),
             -0.5, 0.1 * k, "proved" if k in (0, 1) else "open", False, k if k < size // 2 else None, 0, 1.0, 0.0, "", "state", 1, "policy",
             "2026-01-01T00:00:00Z") for k in range(size)]
    insert_rows("prover_proofnode", NODE_COLUMNS, rows)


def test_the_form_and_the_api_show_the_same_field_errors(client, researcher, dataset):
    client.force_login(researcher)
    form_page = client.post("/runs/new/", {
        "dataset": "easy", "strategy": "best_first", "max_depth": 0, "timeout_s": 60, "num_candidates": 2,
        "temperature": 0.8, "policy_url": "not a url", "lean": "minilean", "lean_workers": 1, "concurrency": 1,
        "chunk_size": 2, "theorems": "t1, nope",
    }).content.decode()
    api = APIClient()
    api.force_authenticate(researcher)
    body = api.post("/api/runs/", {"config": {"dataset": "easy", "theorems": ["t1", "nope"], "policy_url": "not a url",
                                               "search": {"strategy": "best_first", "max_depth": 0}}}, format="json").json()
    for message in (body["search.max_depth"][0], body["policy_url"][0], body["theorems"][0]):
        assert html.escape(message) in form_page
    assert not Run.objects.exists()


def test_viewers_cannot_open_the_launch_form_or_cancel(client, viewer, dataset):
    client.force_login(viewer)
    assert client.get("/runs/new/").status_code == 403
    run = Run.objects.create(name="r", dataset=dataset, status="running")
    assert APIClient().post(f"/api/runs/{run.pk}/cancel/").status_code == 401
    api = APIClient()
    api.force_authenticate(viewer)
    assert api.post(f"/api/runs/{run.pk}/cancel/").status_code == 403
    run.refresh_from_db()
    assert run.status == "running" and not run.cancel_requested


def test_clone_and_edit_prefills_the_form_with_the_run_config(client, researcher, dataset):
    run = Run.objects.create(name="base", dataset=dataset, config={
        "dataset": "easy", "split": "", "theorems": ["t1"], "limit": None, "policy_url": "http://127.0.0.1:9/",
        "encoder_url": "", "ebm_path": "", "lean": "minilean", "lean_workers": 2, "concurrency": 1, "chunk_size": 3,
        "search": {"strategy": "best_first", "max_depth": 9, "alpha": 0.9}})
    client.force_login(researcher)
    page = client.get(f"/runs/new/?clone={run.pk}").content.decode()
    assert 'value="base (copy)"' in page and 'value="9"' in page and "&quot;alpha&quot;: 0.9" in page
    assert f'name="cloned_from" value="{run.pk}"' in page


def test_run_page_shows_counters_results_and_minilean_label(client, viewer, dataset):
    run = make_run(dataset)
    client.force_login(viewer)
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'id="c-proved">2<' in page and "not Lean results" in page
    assert page.count('class="theorem-row"') == 6 and "frontier_exhausted" in page
    assert "Cancel run" not in page  # finished, and a viewer besides


def test_tree_endpoint_pages_through_one_subtree(viewer, dataset):
    run = make_run(dataset)
    theorem = Theorem.objects.get(dataset=dataset, name="t0")
    make_tree(run, theorem, 40)
    api = APIClient()
    api.force_authenticate(viewer)
    top = api.get(f"/api/runs/{run.pk}/tree/", {"theorem": theorem.pk, "depth": 2}).json()
    assert [n["node_id"] for n in top["results"]] == [0, 1, 2, 3]
    sub = api.get(f"/api/runs/{run.pk}/tree/", {"theorem": theorem.pk, "parent": 1, "depth": 2}).json()
    ids = {n["node_id"] for n in sub["results"]}
    assert ids == {1, 4, 5, 6, 13, 14, 15, 16, 17, 18, 19, 20, 21}
    assert api.get(f"/api/runs/{run.pk}/tree/").status_code == 400


def test_theorem_page_shows_first_and_shortest_proof_across_runs(client, viewer, dataset):
    first = make_run(dataset, "first", proved=("t1",))
    make_run(dataset, "second", proved=("t1",))
    theorem = Theorem.objects.get(dataset=dataset, name="t1")
    TheoremResult.objects.filter(run__name="second", theorem=theorem).update(proof_tactics=["linarith"], proof="  linarith")
    client.force_login(viewer)
    page = client.get(f"/theorems/{theorem.pk}/").content.decode()
    assert f"First proved by <a href=\"/runs/{first.pk}/\">run #{first.pk}</a>" in page
    assert "1 tactics" in page and "re-checked as a whole" in page
    assert page.count("/runs/") >= 3


def test_compare_page_lists_differences_and_rates_at_equal_compute(client, viewer, dataset):
    a = make_run(dataset, "a", proved=("t0", "t1", "t5"), tokens=10)
    b = make_run(dataset, "b", proved=("t0", "t2"), tokens=1000)
    client.force_login(viewer)
    page = client.get("/compare/", {"a": a.pk, "b": b.pk}).content.decode()
    only_a = page.split('id="only-a"')[1].split("</ul>")[0]
    only_b = page.split('id="only-b"')[1].split("</ul>")[0]
    assert "t1" in only_a and "t5" in only_a and "t2" not in only_a
    assert "t2" in only_b and "t0" not in only_b
    assert "plotly/plotly.min.js" in page and 'id="plot-data"' in page
    api = APIClient()
    api.force_authenticate(viewer)
    body = api.get("/api/runs/compare/", {"a": a.pk, "b": b.pk}).json()
    assert body["only_a"] == ["t1", "t5"] and body["only_b"] == ["t2"] and body["both"] == ["t0"]
    # Equal compute: at most 60 tokens per theorem (a's largest spend; b's is 6,000): a keeps its 3 proofs, b none.
    assert body["equal_tokens"] == 60 and body["rate_at_equal_tokens"] == [3 / 6, 0.0]
    assert client.get("/static/plotly/plotly.min.js").status_code == 200


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_runs_or_nodes(client, viewer, dataset):
    client.force_login(viewer)
    api = APIClient()
    api.force_authenticate(viewer)
    theorem = Theorem.objects.get(dataset=dataset, name="t0")
    run = make_run(dataset)
    make_tree(run, theorem, 10)
    small = (count_queries(client, "/"), count_queries(client, f"/runs/{run.pk}/"),
             count_queries(api, f"/api/runs/{run.pk}/tree/?theorem={theorem.pk}&depth=50"),
             count_queries(api, "/api/runs/"))
    for i in range(12):
        make_run(dataset, f"more{i}")
    ProofNode.objects.filter(run=run).delete()
    make_tree(run, theorem, 400)
    large = (count_queries(client, "/"), count_queries(client, f"/runs/{run.pk}/"),
             count_queries(api, f"/api/runs/{run.pk}/tree/?theorem={theorem.pk}&depth=50"),
             count_queries(api, "/api/runs/"))
    assert small == large


def test_queue_fragment_counts_waiting_tasks(client, viewer):
    from burnqed_web.celery import app

    app.control.purge()
    client.force_login(viewer)
    assert client.get("/queues/").content.decode() == "gpu: 0 · cpu: 0 · default: 0"
