// The learner's dashboard: the entries now, then each change as the board decides (a streamed fetch of
// newline-delimited JSON, so the token stays in a header and never goes into a URL or a log).
(() => {
  "use strict";
  const STATUS = {
    RESULT_STATUS_BEING_CHECKED: ["Being checked by the exam board", "wait"],
    RESULT_STATUS_CERTIFIED: ["Certified", "ok"],
    RESULT_STATUS_NOT_PASSED: ["Not passed", "bad"],
    RESULT_STATUS_REFUSED: ["Certificate refused", "bad"],
    RESULT_STATUS_WITHDRAWN: ["Certificate withdrawn", "bad"],
    RESULT_STATUS_NOT_SUBMITTED: ["Not submitted: the answers were never validated by the final check", "bad"],
    RESULT_STATUS_INVALID_NO_ID_PHOTO: ["Invalid: no photo of the ID document", "bad"],
  };
  const $ = (id) => document.getElementById(id);
  const entries = new Map();
  let token = null;

  function readToken() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("token")) {
      sessionStorage.setItem("vigil-token", hash.get("token"));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem("vigil-token");
  }

  function setLive(on, text) {
    const el = $("live");
    el.className = "live " + (on ? "on" : "off");
    el.dataset.state = on ? "live" : "offline";
    el.textContent = text;
  }

  function showError(text) {
    const el = $("error");
    el.textContent = text;
    el.hidden = !text;
  }

  function fmtDate(ts) {
    if (!ts) return "";
    const d = new Date(ts);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  function render(flashId) {
    const list = $("entries");
    list.replaceChildren();
    const sorted = [...entries.values()].sort((a, b) => (b.submittedAt || "").localeCompare(a.submittedAt || ""));
    $("empty").hidden = sorted.length > 0;
    for (const e of sorted) {
      const li = document.createElement("li");
      li.className = "entry" + (e.sessionId === flashId ? " flash" : "");
      li.dataset.sessionId = e.sessionId;
      li.dataset.status = e.status || "";
      const [label, tone] = STATUS[e.status] || ["Unknown", "wait"];
      const h = document.createElement("h2");
      h.textContent = e.examTitle || e.examId;
      const s = document.createElement("span");
      s.className = "status " + tone;
      s.textContent = label;
      li.append(h, s);
      if (e.reason) {
        const r = document.createElement("p");
        r.className = "reason";
        r.textContent = e.reason;
        li.append(r);
      }
      const meta = document.createElement("p");
      meta.className = "meta";
      const parts = [];
      if (e.courseId) parts.push("Course " + e.courseId);
      if (e.submittedAt) parts.push("submitted " + fmtDate(e.submittedAt));
      if (e.decidedAt) parts.push("decided " + fmtDate(e.decidedAt));
      if (e.maxScore) parts.push(`score ${e.score || 0} / ${e.maxScore} (pass mark ${e.passMark || 0})`);
      meta.textContent = parts.join(" · ");
      li.append(meta);
      if (e.certificate && e.certificate.verificationCode) {
        const c = e.certificate;
        const div = document.createElement("div");
        const withdrawn = c.status === "CERTIFICATE_STATUS_WITHDRAWN";
        div.className = "certificate" + (withdrawn ? " withdrawn" : "");
        div.append("Certificate " + (withdrawn ? "(withdrawn) " : "") + "· verification code ");
        const code = document.createElement("code");
        code.className = "verification-code";
        code.textContent = c.verificationCode;
        const link = document.createElement("a");
        link.href = "/verify?code=" + encodeURIComponent(c.verificationCode);
        link.textContent = "check it";
        div.append(code, " · ", link);
        if (c.learnerName) div.append(" · issued to " + c.learnerName + " on " + fmtDate(c.issuedAt));
        li.append(div);
      }
      list.append(li);
    }
  }

  async function watch() {
    let backoff = 1000;
    for (;;) {
      try {
        const response = await fetch("/api/dashboard/watch", { headers: { Authorization: "Bearer " + token } });
        if (response.status === 401 || response.status === 403) {
          sessionStorage.removeItem("vigil-token");
          showError("Your access token is not valid (any more): sign in again.");
          $("signin").hidden = false;
          setLive(false, "signed out");
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        $("dashboard").hidden = false;
        showError("");
        setLive(true, "live");
        backoff = 1000;
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        let snapshot = true;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let nl;
          while ((nl = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const update = JSON.parse(line);
            if (!update.entry) continue;
            if (update.snapshot && !snapshot) { entries.clear(); }
            snapshot = !!update.snapshot;
            entries.set(update.entry.sessionId, update.entry);
            render(update.snapshot ? null : update.entry.sessionId);
          }
        }
      } catch (err) {
        showError("");
      }
      setLive(false, "reconnecting…");
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 15000);
    }
  }

  async function start() {
    token = readToken();
    if (!token) {
      $("signin").hidden = false;
      setLive(false, "signed out");
      return;
    }
    $("signin").hidden = true;
    try {
      const response = await fetch("/api/dashboard", { headers: { Authorization: "Bearer " + token } });
      if (response.ok) {
        const data = await response.json();
        for (const e of data.entries || []) entries.set(e.sessionId, e);
        $("dashboard").hidden = false;
        render(null);
      }
    } catch (err) { /* the watch below retries */ }
    watch();
  }

  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) return;
    sessionStorage.setItem("vigil-token", value);
    $("token-input").value = "";
    start();
  });
  // A link with a new token opened on this page: take it and start again.
  window.addEventListener("hashchange", () => {
    if (new URLSearchParams(location.hash.slice(1)).get("token")) { readToken(); location.reload(); }
  });
  start();
})();
