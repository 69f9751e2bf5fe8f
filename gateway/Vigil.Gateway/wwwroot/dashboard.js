// The learner's dashboard: the entries now, then each change as the board decides (a streamed fetch of
// newline-delimited JSON). The person signs in at the platform's provider through the gateway (/signin); the
// session is the gateway's HttpOnly cookie, so no token is ever in this page, a URL or storage.
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

  // Signed in, but not as a learner (a board member, staff): the services refuse a dashboard (403).
  function noDashboard() {
    $("dashboard").hidden = true;
    $("no-dashboard").hidden = false;
    setLive(false, "no dashboard");
  }

  function signedOut(text) {
    $("account").hidden = true;
    $("dashboard").hidden = true;
    entries.clear();
    render(null);
    $("signin").hidden = false;
    showError(text || "");
    setLive(false, "signed out");
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
        const response = await fetch("/api/dashboard/watch", { credentials: "same-origin" });
        if (response.status === 401) {
          signedOut("Your session has ended: sign in again.");
          return;
        }
        if (response.status === 403) {
          noDashboard();
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
    if (new URLSearchParams(location.search).get("signin") === "failed") {
      showError("The sign-in did not succeed: try again.");
    }
    let me;
    try {
      const response = await fetch("/api/me", { credentials: "same-origin" });
      if (response.status === 401) {
        const config = await fetch("/api/signin").then((r) => r.json()).catch(() => ({ enabled: true }));
        if (!config.enabled) {
          $("signin-text").textContent = "Sign-in is not configured on this gateway.";
          $("signin-link").hidden = true;
        }
        signedOut($("error").hidden ? "" : $("error").textContent);
        return;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      me = await response.json();
    } catch (err) {
      showError("Vigil cannot be reached just now: reload the page in a moment.");
      setLive(false, "offline");
      return;
    }
    $("signin").hidden = true;
    $("who").textContent = "Signed in as " + (me.name || me.subject);
    $("account").hidden = !me.signOut;
    try {
      const response = await fetch("/api/dashboard", { credentials: "same-origin" });
      if (response.status === 403) {
        noDashboard();
        return;
      }
      if (response.ok) {
        const data = await response.json();
        for (const e of data.entries || []) entries.set(e.sessionId, e);
        $("dashboard").hidden = false;
        render(null);
      }
    } catch (err) { /* the watch below retries */ }
    watch();
  }

  start();
})();
