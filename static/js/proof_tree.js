// The proof tree of one theorem as an outline: a node is a goal state, the line above it is the tactic (edge)
// that reached it. An outline is an incremental layout by construction: a new node is appended under its
// parent and nothing else moves sideways, so the tree stays readable while it grows. Children of collapsed
// nodes are kept in memory and rendered only when opened (large subtrees cost nothing until looked at).
"use strict";

class ProofTree {
  constructor(container, details, {onSelect} = {}) {
    this.container = container;
    this.details = details;
    this.onSelect = onSelect || (() => {});
    this.filter = "all";      // all | proof | frontier
    this.heat = "none";       // none | energy | log_prob | expansion_order
    this.limit = Infinity;    // replay: show only nodes with node_id <= limit
    this.clear();
  }

  clear() {
    this.nodes = new Map();
    this.children = new Map();   // node_id -> [child ids], in arrival order
    this.failed = new Map();     // node_id -> [failed tactic nodes]
    this.open = new Set();       // node ids the user expanded (plus the proving path)
    this.closed = new Set();     // node ids the user collapsed explicitly
    this.container.innerHTML = "";
    this.details.hidden = true;
    this.rootId = null;
  }

  // Add or update nodes (API rows or node_added events); returns true if the outline must be redrawn.
  upsert(rows) {
    let structural = false;
    for (const row of rows) {
      const id = row.node_id;
      const known = this.nodes.get(id);
      if (known) { Object.assign(known, row); continue; }
      const node = {...row, parent_node_id: row.parent_node_id ?? row.parent_id ?? null};
      this.nodes.set(id, node);
      structural = true;
      if (node.parent_node_id === null) { this.rootId = id; continue; }
      const bucket = node.kind === "failed_tactic" ? this.failed : this.children;
      if (!bucket.has(node.parent_node_id)) bucket.set(node.parent_node_id, []);
      bucket.get(node.parent_node_id).push(id);
    }
    return structural;
  }

  applyEvent(event) {
    switch (event.type) {
      case "node_added": this.upsert([event]); this.appendNode(this.nodes.get(event.node_id)); break;
      case "edge_added": this.patch(event.node_id, n => ({merged_count: (n.merged_count || 0) + 1})); break;
      case "node_expanded": this.patch(event.node_id, () => ({expansion_order: event.expansion_order, generate_ms: event.generate_ms})); break;
      case "nodes_scored": for (const s of event.scores) this.patch(s.node_id, () => ({energy: s.energy})); break;
      case "node_status_changed":
        for (const c of event.changes) this.patch(c.node_id, () => ({status: c.status}));
        if (event.changes.some(c => c.status === "proved")) this.render();  // the proving path opens up
        break;
    }
  }

  patch(id, change) {
    const node = this.nodes.get(id);
    if (!node) return;
    Object.assign(node, change(node));
    const el = this.container.querySelector(`.node[data-node-id="${id}"]`);
    if (el) el.replaceWith(this.nodeElement(node));
  }

  // A live node: draw it in place if its parent is drawn and open; otherwise it waits in memory.
  appendNode(node) {
    if (!this.visible(node)) return;
    if (node.parent_node_id === null) { this.render(); return; }
    const parentEl = this.container.querySelector(`.node[data-node-id="${node.parent_node_id}"]`);
    if (!parentEl) return;
    parentEl.replaceWith(this.nodeElement(this.nodes.get(node.parent_node_id)));
  }

  isOpen(node) {
    if (this.closed.has(node.node_id)) return false;
    return node.depth === 0 || this.open.has(node.node_id) || node.status === "proved" || this.filter !== "all";
  }

  visible(node) {
    if (node.node_id > this.limit) return false;
    if (this.filter === "proof") return node.status === "proved" || node.kind === "terminal";
    if (this.filter === "frontier") return this.leadsToFrontier(node.node_id);
    return true;
  }

  leadsToFrontier(id) {
    const node = this.nodes.get(id);
    if (!node) return false;
    if (node.status === "open" && node.expansion_order == null && node.kind !== "failed_tactic") return true;
    return (this.children.get(id) || []).some(child => this.leadsToFrontier(child));
  }

  render() {
    this.container.innerHTML = "";
    if (this.rootId === null) { this.container.innerHTML = '<p class="muted">No nodes yet.</p>'; return; }
    this.heatRange = this.computeHeatRange();
    this.container.appendChild(this.nodeElement(this.nodes.get(this.rootId)));
  }

  computeHeatRange() {
    if (this.heat === "none") return null;
    const values = [...this.nodes.values()].map(n => n[this.heat]).filter(v => v !== null && v !== undefined);
    return values.length ? [Math.min(...values), Math.max(...values)] : null;
  }

  heatColour(node) {
    const value = node[this.heat];
    if (!this.heatRange || value === null || value === undefined) return "";
    const [lo, hi] = this.heatRange;
    let t = hi > lo ? (value - lo) / (hi - lo) : 0.5;
    if (this.heat === "energy" || this.heat === "expansion_order") t = 1 - t;  // low energy, early = good = green
    return `hsl(${Math.round(t * 120)}, 70%, 45%)`;
  }

  nodeElement(node) {
    const el = document.createElement("div");
    el.className = `node st-${node.status}${node.status === "proved" ? " on-proof" : ""}${node.kind === "terminal" ? " terminal" : ""}`;
    el.dataset.nodeId = node.node_id;
    const heat = this.heat !== "none" ? this.heatColour(node) : "";
    if (heat) el.style.borderLeftColor = heat;

    const head = document.createElement("div");
    head.className = "node-head";
    const kids = (this.children.get(node.node_id) || []).filter(id => this.visible(this.nodes.get(id)));
    const open = this.isOpen(node);
    const toggle = document.createElement("button");
    toggle.className = "toggle";
    toggle.textContent = kids.length ? (open ? "▾" : `▸ ${kids.length}`) : "·";
    toggle.addEventListener("click", e => {
      e.stopPropagation();
      if (open) { this.open.delete(node.node_id); this.closed.add(node.node_id); }
      else { this.closed.delete(node.node_id); this.open.add(node.node_id); }
      el.replaceWith(this.nodeElement(node));
    });
    head.appendChild(toggle);

    const edge = document.createElement("span");
    edge.className = "edge";
    edge.textContent = node.parent_node_id === null ? "theorem" : node.tactic;
    head.appendChild(edge);
    head.appendChild(this.badges(node));
    head.addEventListener("click", () => this.showDetails(node));
    el.appendChild(head);

    const goal = document.createElement("div");
    goal.className = "goal";
    goal.appendChild(this.goalDiff(node));
    el.appendChild(goal);

    const failures = (this.failed.get(node.node_id) || []).map(id => this.nodes.get(id)).filter(n => this.visible(n));
    if (failures.length) {
      const strip = document.createElement("div");
      strip.className = "failed-strip";
      for (const f of failures) {
        const badge = document.createElement("button");
        badge.className = "failed-badge";
        badge.textContent = "✗ " + f.tactic + (f.source && f.source !== "policy" ? ` (${f.source})` : "");
        badge.title = "click for Lean's message";
        badge.addEventListener("click", e => { e.stopPropagation(); this.showDetails(f); });
        strip.appendChild(badge);
      }
      el.appendChild(strip);
    }
    if (open && kids.length) {
      const box = document.createElement("div");
      box.className = "children";
      for (const id of kids) box.appendChild(this.nodeElement(this.nodes.get(id)));
      el.appendChild(box);
    }
    return el;
  }

  badges(node) {
    const span = document.createElement("span");
    span.className = "badges";
    const add = (cls, text, title) => {
      const b = document.createElement("span");
      b.className = "badge " + cls;
      b.textContent = text;
      if (title) b.title = title;
      span.appendChild(b);
    };
    if (node.log_prob !== null && node.log_prob !== undefined && node.parent_node_id !== null) add("lp", `lp ${(+node.log_prob).toFixed(2)}`, "log-prob of the tactic");
    if (node.energy !== null && node.energy !== undefined) add("en", `E ${(+node.energy).toFixed(2)}`, "EBM energy of this state (lower = more provable)");
    if (node.lean_ms) add("ms", `${Math.round(node.lean_ms)} ms`, "Lean time of the tactic");
    if (node.expansion_order !== null && node.expansion_order !== undefined) add("ex", `#${node.expansion_order}`, "expansion number");
    if (node.merged_count) add("merge", `×${node.merged_count + 1}`, "reached by several tactics (DAG merge)");
    if (node.parent_node_id !== null && node.source) add("source source-" + node.source, node.source, "where the tactic came from: the policy, a probe tactic or a replayed whole proof");
    if (node.kind === "terminal") add("qed", "QED", "no goals left");
    return span;
  }

  // The state against its parent's: new or changed hypotheses highlighted, closed goals counted in green.
  goalDiff(node) {
    const pre = document.createElement("pre");
    const parent = this.nodes.get(node.parent_node_id);
    const before = new Set(parent ? (parent.goal_text || "").split("\n") : []);
    if (node.kind === "terminal") { pre.innerHTML = '<span class="closed">goals accomplished</span>'; return pre; }
    for (const line of (node.goal_text || "").split("\n")) {
      const span = document.createElement("span");
      span.textContent = line + "\n";
      if (parent && line && !before.has(line)) span.className = line.startsWith("⊢") ? "changed" : "new";
      pre.appendChild(span);
    }
    if (parent) {
      const closed = (parent.num_goals || 0) - (node.num_goals || 0);
      if (closed > 0) {
        const span = document.createElement("span");
        span.className = "closed";
        span.textContent = `✓ ${closed} goal${closed > 1 ? "s" : ""} closed`;
        pre.appendChild(span);
      }
    }
    return pre;
  }

  showDetails(node) {
    this.details.hidden = false;
    const rows = [
      ["node", node.node_id], ["kind", node.kind], ["status", node.status], ["depth", node.depth],
      ["tactic", node.tactic || "—"], ["log-prob", node.log_prob], ["energy", node.energy],
      ["expansion", node.expansion_order], ["Lean ms", node.lean_ms == null ? null : (+node.lean_ms).toFixed(1)],
      ["source", node.source],
    ];
    this.details.innerHTML = "";
    const h = document.createElement("h3");
    h.textContent = node.kind === "failed_tactic" ? "Failed tactic" : "State";
    this.details.appendChild(h);
    const dl = document.createElement("dl");
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      dl.append(dt, dd);
    }
    this.details.appendChild(dl);
    if (node.error) {
      const err = document.createElement("pre"); err.className = "lean-error"; err.textContent = node.error;
      this.details.appendChild(err);
    }
    const goal = document.createElement("pre"); goal.textContent = node.goal_text || "";
    this.details.appendChild(goal);
    this.onSelect(node);
  }

  maxNodeId() { return Math.max(-1, ...this.nodes.keys()); }
}

window.ProofTree = ProofTree;
