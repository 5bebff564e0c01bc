// The chat page: one websocket per tab, resumable by last-seen message id.
// Text is always inserted as text nodes, never as HTML; citation markers in agent text become links built
// node by node (the same rules as webapp/chat/templatetags/citations.py for the history).
(function () {
  "use strict";
  const root = document.getElementById("chat");
  if (!root) return;
  const list = document.getElementById("messages");
  const statusLine = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const counter = document.getElementById("counter");
  const maxChars = parseInt(root.dataset.maxChars, 10);
  let lastId = parseInt(root.dataset.lastId, 10) || 0;
  let socket = null;
  let retryMs = 500;
  let stopped = false;
  const outbox = new Map(); // client_id -> text, until the server acknowledges it
  // "[ev-3f9a2c1b7d]" in an agent's text: a superscript link to the cited passage, numbered by first appearance.
  // Only a complete marker matches, so one still streaming shows as plain text until its last character arrives.
  const CITATION = /\[(ev-[0-9a-f]{10})\]/g;
  const rawText = new WeakMap(); // span -> the text as sent (offsets count this, not the rendered links)

  function citationLink(id, number) {
    const sup = document.createElement("sup");
    sup.className = "citation";
    const a = document.createElement("a");
    a.href = "/evidence/" + id + "/";
    a.target = "_blank";
    a.rel = "noopener";
    a.title = "Source";
    a.textContent = "[" + number + "]";
    sup.appendChild(a);
    return sup;
  }

  function setText(span, text, cite) {
    rawText.set(span, text);
    if (!cite) { span.textContent = text; return; }
    const numbers = new Map();
    const nodes = [];
    let at = 0;
    for (const m of text.matchAll(CITATION)) {
      if (m.index > at) nodes.push(document.createTextNode(text.slice(at, m.index)));
      if (!numbers.has(m[1])) numbers.set(m[1], numbers.size + 1);
      nodes.push(citationLink(m[1], numbers.get(m[1])));
      at = m.index + m[0].length;
    }
    if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
    span.replaceChildren(...nodes);
  }

  function textOf(span) {
    const text = rawText.get(span);
    return text === undefined ? span.textContent : text;
  }

  function setStatus(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = "status" + (kind ? " " + kind : "");
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; window.scrollTo(0, document.body.scrollHeight); }

  function addItem(cls, text, attrs) {
    const li = document.createElement("li");
    li.className = "message " + cls;
    const span = document.createElement("span");
    span.className = "text";
    setText(span, text, cls.split(" ")[0] === "agent");
    li.appendChild(span);
    for (const [k, v] of Object.entries(attrs || {})) li.dataset[k] = v;
    list.appendChild(li);
    scrollDown();
    return li;
  }

  // A message that carries an upload shows how far its reading is, and links to what was read.
  const UPLOAD_STATUS = { queued: "Waiting to be read", reading: "Reading…", done: "Read", failed: "Could not be read" };

  function setUpload(li, u) {
    let tag = li.querySelector(".upload-status");
    if (!tag) {
      tag = document.createElement("a");
      tag.className = "upload-status";
      tag.href = "/uploads/" + u.upload + "/";
      tag.target = "_blank";
      tag.rel = "noopener";
      li.appendChild(document.createTextNode(" "));
      li.appendChild(tag);
    }
    li.dataset.upload = u.upload;
    li.dataset.uploadStatus = u.status;
    tag.textContent = (u.status === "reading" && u.progress) ? u.progress + "…" : (UPLOAD_STATUS[u.status] || u.status);
  }

  function onUpload(u) {
    const li = list.querySelector('li[data-upload="' + CSS.escape(u.upload) + '"]') ||
      (u.message ? list.querySelector('li[data-id="' + u.message + '"]') : null);
    if (li) setUpload(li, u);
  }

  function streamingItem(turn, create) {
    let li = list.querySelector('li.streaming[data-turn="' + turn + '"]');
    if (!li && create) li = addItem("agent streaming", "", { turn: String(turn) });
    return li;
  }

  function onMessage(m) {
    lastId = Math.max(lastId, m.id);
    if (list.querySelector('li[data-id="' + m.id + '"]')) return;
    if (m.turn) { const s = streamingItem(m.turn, false); if (s) s.remove(); setStatus(""); }
    if (m.client_id) {
      const mine = list.querySelector('li.pending[data-client-id="' + CSS.escape(m.client_id) + '"]');
      if (mine) { mine.classList.remove("pending"); mine.dataset.id = m.id; if (m.upload) setUpload(mine, m.upload); return; }
    }
    const attrs = { id: String(m.id) };
    if (m.client_id) attrs.clientId = m.client_id;
    const li = addItem(m.author, m.text, attrs);
    if (m.upload) setUpload(li, m.upload);
  }

  function onDelta(e) {
    const li = streamingItem(e.turn, true);
    const span = li.querySelector(".text");
    const have = textOf(span).length;
    if (e.offset > have) { resume(); return; } // a gap: ask for the saved text
    setText(span, textOf(span) + e.text.slice(have - e.offset), true);
    setStatus("");
    scrollDown();
  }

  function onTurn(e) {
    if (e.delayed) setStatus("Your message is saved and will be answered as soon as the assistant is available again.", "warn");
    if (e.status === "running" && e.text) {
      const li = streamingItem(e.turn, true);
      const span = li.querySelector(".text");
      if (e.text.length > textOf(span).length) setText(span, e.text, true);
    }
  }

  function handle(e) {
    switch (e.type) {
      case "message": onMessage(e); break;
      case "ack": {
        outbox.delete(e.client_id);
        const li = list.querySelector('li.pending[data-client-id="' + CSS.escape(e.client_id) + '"]');
        if (li) { li.classList.remove("pending"); li.dataset.id = e.message_id; }
        lastId = Math.max(lastId, e.message_id);
        break;
      }
      case "turn.delta": onDelta(e); break;
      case "upload": onUpload(e); break;
      case "turn": onTurn(e); break;
      case "turn.restart": { const s = streamingItem(e.turn, false); if (s) s.remove(); break; }
      case "turn.delayed": setStatus(e.text, "warn"); break;
      case "notice": setStatus(e.message, "warn"); break;
      case "error": {
        setStatus(e.message, "error");
        if (e.code === "session_expired" && input) {
          // Nothing unsent is lost: put it back in the box for after the next login.
          const unsent = Array.from(outbox.values()).join("\n\n");
          if (unsent) input.value = unsent + (input.value ? "\n\n" + input.value : "");
          outbox.clear();
          list.querySelectorAll("li.pending").forEach(function (li) { li.remove(); });
        }
        if (e.client_id) {
          outbox.delete(e.client_id);
          const li = list.querySelector('li.pending[data-client-id="' + CSS.escape(e.client_id) + '"]');
          if (li) li.remove();
        }
        break;
      }
      default: break;
    }
  }

  function resume() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "resume", after: lastId }));
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onopen = function () {
      retryMs = 500;
      root.dataset.connected = "true";
      setStatus("");
      resume();
      for (const [clientId, text] of outbox) socket.send(JSON.stringify({ type: "send", text: text, client_id: clientId }));
    };
    socket.onmessage = function (ev) { handle(JSON.parse(ev.data)); };
    socket.onclose = function (ev) {
      root.dataset.connected = "false";
      if (ev.code === 4401) { setStatus("Your session has ended. Please log in again.", "error"); stopped = true; return; }
      if (ev.code === 4403) { setStatus("You cannot open this conversation.", "error"); stopped = true; return; }
      if (stopped) return;
      setStatus("Reconnecting…", "warn");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  if (form) {
    input.addEventListener("input", function () {
      const n = input.value.length;
      counter.textContent = n > maxChars * 0.9 ? n + " / " + maxChars + " characters" : "";
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      const text = input.value;
      if (!text.trim()) { setStatus("The message is empty.", "error"); return; }
      const clientId = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      outbox.set(clientId, text);
      addItem("patient pending", text, { clientId: clientId });
      input.value = "";
      counter.textContent = "";
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "send", text: text, client_id: clientId }));
    });
  }
  // Files go over HTTP (multipart), not the socket; their chat message and reading progress come back as events.
  const attach = document.getElementById("attach");
  if (attach) {
    const hint = document.getElementById("attach-hint");
    const maxBytes = parseInt(root.dataset.maxUploadBytes, 10);
    const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
    attach.addEventListener("change", function () {
      const file = attach.files[0];
      if (!file) return;
      attach.value = "";
      if (file.size > maxBytes) {
        setStatus("The file is too large; the largest file I can take is " + (maxBytes / 1048576).toFixed(1) + " MB.", "error");
        return;
      }
      const body = new FormData();
      body.append("file", file);
      body.append("hint", hint ? hint.value : "auto");
      body.append("client_id", crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/uploads/");
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) setStatus("Sending " + file.name + ": " + Math.round(100 * ev.loaded / ev.total) + "%");
      };
      xhr.onload = function () {
        let reply = {};
        try { reply = JSON.parse(xhr.responseText); } catch (err) { reply = {}; }
        if (xhr.status >= 200 && xhr.status < 300) { setStatus(""); if (reply.upload) onUpload(reply.upload); }
        else setStatus(reply.error || "The file could not be sent (" + xhr.status + ").", "error");
      };
      xhr.onerror = function () { setStatus("The file could not be sent: check your connection and try again.", "error"); };
      setStatus("Sending " + file.name + "…");
      xhr.send(body);
    });
  }

  setInterval(function () { if (socket && socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}'); }, 20000);
  connect();
})();
