// Training curves, live: the points already stored come from the API, new ones arrive as numbered frames on
// /ws/training/<id>/ and are appended to their trace (a gap in the numbers re-reads everything).
"use strict";

(function () {
  const root = document.getElementById("training");
  if (!root) return;
  const id = root.dataset.trainingId;
  // Which chart a metric goes to: losses together, the EBM temperature with its healthy band, the rest below.
  const chartOf = name => /loss/.test(name) ? "plot-loss" : /temperature$/.test(name) ? "plot-temperature" : "plot-other";
  const traces = new Map();   // metric name -> {chart, index}
  let expected = null;
  window.burnqedTraining = {frames: 0, points: 0};

  function layout(chart) {
    const base = {margin: {t: 36}, xaxis: {title: "step"}, legend: {orientation: "h"}};
    if (chart === "plot-loss") return {...base, title: "loss"};
    if (chart === "plot-temperature") return {...base, title: "EBM temperature (healthy 0.5–3.0)",
      shapes: [{type: "rect", xref: "paper", x0: 0, x1: 1, y0: 0.5, y1: 3.0, fillcolor: "#1a7f37", opacity: 0.08, line: {width: 0}}]};
    return {...base, title: "other metrics"};
  }

  function reset() {
    traces.clear();
    for (const chart of ["plot-loss", "plot-temperature", "plot-other"]) Plotly.newPlot(chart, [], layout(chart), {displaylogo: false, responsive: true});
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
      }
    };
    socket.onclose = () => document.getElementById("live-dot").classList.remove("on");
  }
  connect();
})();
