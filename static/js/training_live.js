// Training curves, live: the points already stored come from the API, new ones arrive as numbered frames on
// /ws/training/<id>/ and are appended to their trace (a gap in the numbers re-reads everything).
"use strict";

(function () {
  const root = document.getElementById("training");
  if (!root) return;
  const id = root.dataset.trainingId;
  // Which chart a metric goes to: losses together, the EBM temperature with its healthy band, the rest below.
  // Losses share a chart, the EBM temperature has its own with the healthy band, every other metric (lr,
  // tokens/s, rank accuracy ...) gets a small chart of its own, since their scales have nothing in common.
  const chartOf = name => /loss/.test(name) ? "plot-loss" : /temperature$/.test(name) ? "plot-temperature" : otherChart(name);

  function otherChart(name) {
    const id = "plot-m-" + name.replace(/[^a-zA-Z0-9_-]/g, "_");
    if (!document.getElementById(id)) {
      const div = document.createElement("div");
      div.id = id;
      div.className = "plot small-plot";
      document.getElementById("plot-other").appendChild(div);
      Plotly.newPlot(id, [], layout(id, name), {displaylogo: false, responsive: true});
    }
    return id;
  }
  const traces = new Map();   // metric name -> {chart, index}
  let expected = null;
  window.burnqedTraining = {frames: 0, points: 0};

  function layout(chart, name) {
    const base = {margin: {t: 40}, xaxis: {title: {text: "step"}}, legend: {orientation: "h"}};
    if (chart === "plot-loss") return {...base, title: {text: "loss"}};
    if (chart === "plot-temperature") return {...base, title: {text: "EBM temperature (healthy 0.5–3.0)"},
      shapes: [{type: "rect", xref: "paper", x0: 0, x1: 1, y0: 0.5, y1: 3.0, fillcolor: "#1a7f37", opacity: 0.08, line: {width: 0}}]};
    return {...base, title: {text: name}, showlegend: false, height: 240};
  }

  function reset() {
    traces.clear();
    document.getElementById("plot-other").innerHTML = "";
    for (const chart of ["plot-loss", "plot-temperature"]) {
      if (document.getElementById(chart)) Plotly.newPlot(chart, [], layout(chart), {displaylogo: false, responsive: true});
    }
  }

  function add(points) {
    const byName = new Map();
    for (const p of points) {
      if (!byName.has(p.name)) byName.set(p.name, {x: [], y: []});
      byName.get(p.name).x.push(p.step);
      byName.get(p.name).y.push(p.value);
    }
    for (const [name, xy] of byName) {
      if (!traces.has(name)) {
        const chart = chartOf(name);
        const index = document.getElementById(chart).data.length;
        Plotly.addTraces(chart, {x: [], y: [], name, mode: "lines"});
        traces.set(name, {chart, index});
      }
      const {chart, index} = traces.get(name);
      Plotly.extendTraces(chart, {x: [xy.x], y: [xy.y]}, [index]);
    }
    window.burnqedTraining.points += points.length;
  }

  async function load() {
    reset();
    let url = `/api/training-runs/${id}/metrics/?page_size=2000`;
    while (url) {
      const page = await (await fetch(url, {credentials: "same-origin"})).json();
      add(page.results);
      url = page.next;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/training/${id}/`);
    socket.onmessage = e => {
      const msg = JSON.parse(e.data);
      if (msg.type === "hello") { expected = msg.last_seq + 1; document.getElementById("live-dot").classList.add("on"); load(); return; }
      if (msg.type !== "frame") return;
      window.burnqedTraining.frames += 1;
      if (expected !== null && msg.seq !== expected) { expected = msg.seq + 1; load(); return; }
      expected = msg.seq + 1;
      if (msg.kind === "metrics") {
        add(msg.payload.points);
        const last = Math.max(...msg.payload.points.map(p => p.step));
        document.getElementById("steps").textContent = last;
      } else if (msg.kind === "status") {
        const el = document.getElementById("training-status");
        el.textContent = msg.payload.status;
        el.className = `status status-${msg.payload.status}`;
        root.dataset.status = msg.payload.status;
        if (["succeeded", "failed", "cancelled"].includes(msg.payload.status)) {
          const cancel = document.getElementById("cancel-training");
          if (cancel) cancel.closest("form").remove();
        }
      }
    };
    socket.onclose = () => document.getElementById("live-dot").classList.remove("on");
  }
  connect();
})();
