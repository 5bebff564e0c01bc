// The clinician's panel: listens for alerts on /ws/alerts/ and re-reads the panel (server-ordered) when one comes.
(function () {
  "use strict";
  const panel = document.getElementById("panel");
  const banner = document.getElementById("alert-banner");
  if (!panel) return;
  let delay = 1000;

  async function refresh() {
    const response = await fetch(panel.dataset.fragmentUrl, {credentials: "same-origin"});
    if (response.ok) panel.innerHTML = await response.text();
  }

  function show(event) {
    if (event.type === "alert.red_flag") {
      banner.textContent = `New ${event.level} red flag: ${event.patient}: ${(event.reasons || []).join("; ")}`;
    } else if (event.type === "alert.trend") {
      banner.textContent = `Abnormal trend: ${event.patient}: ${(event.reasons || []).join("; ")}`;
    } else if (event.type === "alert.missed_check_in") {
      banner.textContent = `Missed check-in: ${event.patient}: ${event.text || ""}`;
    } else if (event.type === "alert.escalated") {
      banner.textContent = `An unacknowledged alert was escalated to ${(event.to || []).join(", ")}.`;
    } else if (event.type === "alert.agent_paused") {
      banner.textContent = `The agent has been paused for everyone by ${event.by}: ${event.reason}`;
    } else if (event.type === "alert.agent_resumed") {
      banner.textContent = `The agent has been resumed by ${event.by}.`;
    } else {
      return;
    }
    banner.hidden = false;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/alerts/`);
    socket.onopen = () => { delay = 1000; refresh(); };  // anything missed while disconnected
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (!event.type || !event.type.startsWith("alert.")) return;
      show(event);
      refresh();
    };
    socket.onclose = (closing) => {
      if (closing.code === 4401 || closing.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
