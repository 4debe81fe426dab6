// The run page, live: numbered frames from /ws/runs/<id>/ update the counters, the theorem table and the tree
// of the selected theorem. A missing sequence number means frames were lost: re-sync everything from the API.
"use strict";

(function () {
  const root = document.getElementById("run");
  if (!root) return;
  const runId = root.dataset.runId;
  const api = `/api/runs/${runId}/`;
  const tree = new ProofTree(document.getElementById("tree"), document.getElementById("details"));
  let selected = null;        // theorem id shown in the tree
  let expected = null;        // next sequence number
  let socket = null;
  const expansions = [];      // timestamps of node_expanded events, for nodes/s
  window.burnqedLive = {frames: 0, resyncs: 0, lastSeq: 0, tree};

  const $ = id => document.getElementById(id);
  const setText = (id, v) => { const el = $(id); if (el) el.textContent = v; };

  async function getJSON(url) {
    const r = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return r.json();
  }

  async function refreshRun() {
    const run = await getJSON(api);
    setText("c-proved", run.theorems_proved);
    setText("c-done", run.theorems_done);
    setText("c-nodes", run.nodes_expanded);
    setText("c-tokens", run.tokens);
    setText("c-split", `Lean ${run.lean_ms} ms · LLM ${run.generate_ms} ms · EBM ${run.ebm_ms} ms`);
    setStatus(run.status);
    return run;
  }

  function setStatus(status) {
    const el = $("run-status");
    el.textContent = status;
    el.className = `status status-${status}`;
    root.dataset.status = status;
    if (["succeeded", "failed", "cancelled"].includes(status)) {
      const cancel = $("cancel-run");
      if (cancel) cancel.closest("form").remove();
      setupScrubber();
    }
  }

  async function refreshTable() {
    let url = `/api/results/?run=${runId}&page_size=1000`;
    while (url) {
      const page = await getJSON(url);
      for (const r of page.results) updateRow(r.theorem, r);
      url = page.next;
    }
  }

  function updateRow(theoremId, r) {
    const row = document.querySelector(`tr[data-theorem-id="${theoremId}"]`);
    if (!row) return;
    const status = r.status || (r.proved ? "proved" : (r.failure_reason === "error" ? "error" : r.failure_reason === "cancelled" ? "cancelled" : "failed"));
    row.querySelector(".status").textContent = status;
    row.querySelector(".status").className = `status status-${status}`;
    row.querySelector(".nodes").textContent = r.nodes_expanded ?? 0;
    const tokens = r.tokens ?? ((r.stats && (r.stats.prompt_tokens || 0) + (r.stats.completion_tokens || 0)) || 0);
    row.querySelector(".tokens").textContent = tokens;
    const ms = r.wall_ms ?? r.wall_time_ms;
    row.querySelector(".time").textContent = ms ? `${Math.round(ms)} ms` : "";
    row.querySelector(".reason").textContent = r.failure_reason || "";
  }

  async function loadTree(theoremId) {
    tree.clear();
    const fetchStarted = performance.now();
    let url = `${api}tree/?theorem=${theoremId}&depth=50&page_size=2000`;
    while (url) {
      const page = await getJSON(url);
      tree.upsert(page.results);
      url = page.next;
    }
    window.burnqedLive.treeFetchMs = performance.now() - fetchStarted;
    tree.render();
    setupScrubber();
    window.burnqedLive.treeLoadedAt = performance.now();
    window.burnqedLive.treeNodes = tree.nodes.size;
  }

  function select(theoremId, name) {
    selected = String(theoremId);
    document.querySelectorAll("tr.theorem-row").forEach(tr => tr.classList.toggle("selected", tr.dataset.theoremId === selected));
    setText("tree-title", `Proof tree · ${name}`);
    history.replaceState(null, "", `#theorem-${theoremId}`);
    return loadTree(theoremId);
  }

  function setupScrubber() {
    if (!["succeeded", "failed", "cancelled"].includes(root.dataset.status) || selected === null) return;
    const slider = $("replay");
    const max = tree.maxNodeId();
    if (max < 1) return;
    $("scrubber").hidden = false;
    slider.max = max;
    slider.value = max;
    setText("replay-label", `all ${max + 1} nodes`);
  }

  async function resync() {
    window.burnqedLive.resyncs += 1;
    await Promise.all([refreshRun(), refreshTable(), selected !== null ? loadTree(selected) : null]);
  }

  function onFrame(frame) {
    window.burnqedLive.frames += 1;
    window.burnqedLive.lastSeq = frame.seq;
    if (expected !== null && frame.seq !== expected) {
      expected = frame.seq + 1;
      resync();
      return;
    }
    expected = frame.seq + 1;
    if (frame.kind === "run" || frame.kind === "chunk_failed") { refreshRun(); refreshTable(); return; }
    let finished = false;
    for (const event of frame.payload.events || []) {
      if (event.type === "node_expanded") expansions.push(performance.now());
      if (event.type === "pool_stats") { showPool(event); continue; }
      if (event.type === "theorem_finished") { updateRow(event.theorem_id, event.result); finished = true; }
      else if (event.type === "search_started") {
        const row = document.querySelector(`tr[data-theorem-id="${event.theorem_id}"] .status`);
        if (row) { row.textContent = "running"; row.className = "status status-running"; }
      }
      if (selected !== null && String(event.theorem_id) === selected) tree.applyEvent(event);
    }
    if (finished) refreshRun();
  }

  const pools = new Map();   // worker host -> its pool's latest counters
  function showPool(stats) {
    pools.set(stats.worker, stats);
    const all = [...pools.values()];
    const sum = key => all.reduce((n, p) => n + (typeof p[key] === "number" ? p[key] : 0), 0);
    const restarts = all.reduce((n, p) => n + Object.values(p.restarts || {}).reduce((a, b) => a + b, 0), 0);
    const wait = Math.max(0, ...all.map(p => p.queue_wait_max_s || 0));
    setText("c-pool", `${sum("busy_workers")}/${sum("workers")} busy · ${restarts} · ${sum("timeouts")} · ${wait.toFixed(1)} s`);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/runs/${runId}/`);
    socket.onmessage = e => {
      const msg = JSON.parse(e.data);
      if (msg.type === "hello") {
        // Anything sent before we connected is already in the database: read it, then follow the stream.
        expected = msg.last_seq + 1;
        $("live-dot").classList.add("on");
        resync();
      } else if (msg.type === "frame") onFrame(msg);
    };
    socket.onclose = () => {
      $("live-dot").classList.remove("on");
      if (!["succeeded", "failed", "cancelled"].includes(root.dataset.status)) setTimeout(connect, 2000);
    };
  }

  setInterval(() => {
    const now = performance.now();
    while (expansions.length && now - expansions[0] > 5000) expansions.shift();
    setText("c-rate", (expansions.length / 5).toFixed(1));
  }, 1000);

  document.querySelectorAll("tr.theorem-row .pick").forEach(a => a.addEventListener("click", e => {
    e.preventDefault();
    const row = a.closest("tr");
    select(row.dataset.theoremId, row.dataset.theoremName);
  }));
  document.querySelectorAll('input[name="tree-filter"]').forEach(r => r.addEventListener("change", () => { tree.filter = r.value; tree.render(); }));
  $("heat").addEventListener("change", e => { tree.heat = e.target.value; tree.render(); });
  $("replay").addEventListener("input", e => {
    tree.limit = +e.target.value;
    setText("replay-label", `nodes 0…${e.target.value} of ${tree.maxNodeId()}`);
    tree.render();
  });

  const fromHash = location.hash.match(/^#theorem-(\d+)$/);
  const first = fromHash ? document.querySelector(`tr[data-theorem-id="${fromHash[1]}"]`) : document.querySelector("tr.theorem-row");
  if (first) select(first.dataset.theoremId, first.dataset.theoremName);
  connect();
})();
