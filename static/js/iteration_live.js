// The iteration page, live: every numbered frame on /ws/iterations/<id>/ says a step moved, and the page
// re-reads its steps and tables (a fragment of the same templates), so it never shows half an update.
"use strict";

(function () {
  const root = document.getElementById("iteration");
  if (!root) return;
  const id = root.dataset.iterationId;
  window.burnqedIteration = {frames: 0, refreshes: 0};

  async function refresh() {
    const response = await fetch(`/iterations/${id}/live/`, {credentials: "same-origin"});
    if (!response.ok) return;
    document.getElementById("live").innerHTML = await response.text();
    window.burnqedIteration.refreshes += 1;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/iterations/${id}/`);
    socket.onopen = () => document.getElementById("live-dot").classList.add("on");
    socket.onclose = () => {
      document.getElementById("live-dot").classList.remove("on");
      setTimeout(connect, 2000);
    };
    socket.onmessage = event => {
      const message = JSON.parse(event.data);
      if (message.type !== "frame") return;
      window.burnqedIteration.frames += 1;
      const status = message.payload.status;
      if (status) {
        root.dataset.status = status;
        const badge = document.getElementById("iteration-status");
        badge.textContent = status;
        badge.className = `status status-${status}`;
      }
      refresh();
    };
  }
  connect();
})();
