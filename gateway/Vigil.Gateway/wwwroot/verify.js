// The public verification page: anyone checks a certificate by its code.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const VERDICT = {
    VERIFICATION_RESULT_VALID: "✔ Valid certificate",
    VERIFICATION_RESULT_WITHDRAWN: "✘ This certificate was withdrawn",
    VERIFICATION_RESULT_UNKNOWN: "✘ No certificate has this code",
  };

  async function verify(code) {
    $("error").hidden = true;
    $("result").hidden = true;
    try {
      const response = await fetch("/api/certificates/" + encodeURIComponent(code));
      const data = await response.json();
      if (!response.ok) throw new Error(data.detail || ("HTTP " + response.status));
      const result = data.result || "VERIFICATION_RESULT_UNKNOWN";
      const section = $("result");
      section.dataset.result = result;
      $("verdict").textContent = VERDICT[result] || result;
      const c = data.certificate || {};
      $("learner-name").textContent = c.learnerName || "—";
      $("exam-title").textContent = c.examTitle || "—";
      $("course").textContent = c.courseId || "—";
      $("issued").textContent = c.issuedAt ? new Date(c.issuedAt).toLocaleString() : "—";
      const withdrawn = result === "VERIFICATION_RESULT_WITHDRAWN";
      $("withdrawn-label").hidden = !withdrawn;
      $("withdrawn").hidden = !withdrawn;
      $("withdrawn").textContent = withdrawn
        ? [data.withdrawnAt ? new Date(data.withdrawnAt).toLocaleString() : "", data.withdrawalReason || ""].filter(Boolean).join(" · ")
        : "";
      section.hidden = false;
    } catch (err) {
      $("error").textContent = "Could not verify: " + err.message;
      $("error").hidden = false;
    }
  }

  $("verify-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = $("code").value.trim();
    if (!code) return;
    history.replaceState(null, "", "/verify?code=" + encodeURIComponent(code));
    verify(code);
  });
  const initial = new URLSearchParams(location.search).get("code");
  if (initial) { $("code").value = initial; verify(initial); }
})();
