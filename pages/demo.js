// The /demo page: ask for a call, follow it, check the code, show the token's claims.
// Plain browser JavaScript, no framework and no build step. It talks to the demo's own API
// (/demo/api/*): without a key in development with the simulator, anywhere else with a
// service's API key the person types, kept in this tab (sessionStorage) like the admin key
// on /admin, and sent as the Bearer key of each request. GET demo/api/config says which.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 600;
  const KEY = "voice-otp-demo-key";
  // Statuses after which the call makes no more progress.
  const CALL_ENDED = ["completed", "busy", "no-answer", "failed", "canceled"];
  const STATUS_WORDS = {
    queued: "The call is placed.",
    initiated: "The call is placed.",
    ringing: "The phone is ringing…",
    "in-progress": "Answered: the call is reading the code.",
    completed: "The call has ended.",
    busy: "The line was busy.",
    "no-answer": "Nobody answered.",
    failed: "The call failed.",
    canceled: "The call was canceled.",
  };

  let challengeId = null;
  let polling = null;

  /** Whether the demo API takes a key here, and whether it shows what the phone heard. */
  const config = fetch("demo/api/config").then(async (res) => {
    if (!res.ok) throw new Error(`the service answered ${res.status}`);
    return res.json();
  });
  config.then(
    ({ key_required }) => {
      if (!key_required) return;
      $("key-field").hidden = false;
      $("key-note").hidden = false;
      $("api-key").required = true;
      $("api-key").value = sessionStorage.getItem(KEY) || "";
    },
    (err) => show($("number-error"), `could not reach the service: ${err.message}`),
  );

  /** The stored key as a Bearer header, when there is one. */
  const withKey = (headers) => {
    const key = sessionStorage.getItem(KEY);
    return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
  };

  /** Asks the demo API; resolves with {status, body} whatever the status. */
  async function ask(path, body) {
    const init = body === undefined ? { headers: withKey({}) } : { method: "POST", headers: withKey({ "Content-Type": "application/json" }), body: JSON.stringify(body) };
    const res = await fetch(path, init);
    return { status: res.status, body: await res.json().catch(() => ({})) };
  }

  function show(el, text) {
    el.textContent = text;
    el.hidden = !text;
  }

  /**
   * The service's error message, or what went wrong with the request itself. A refused key
   * (401) is forgotten, and the page asks for another.
   */
  function messageOf(res) {
    const message = (res.body && res.body.error && res.body.error.message) || `the service answered ${res.status}`;
    if (res.status !== 401) return message;
    sessionStorage.removeItem(KEY);
    $("api-key").value = "";
    $("key-field").hidden = false;
    $("api-key").required = true;
    return `The demo needs a service's API key here, and that one was refused: ${message}`;
  }

  $("number-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    show($("number-error"), "");
    $("call-button").disabled = true;
    try {
      const { key_required } = await config;
      if (key_required) sessionStorage.setItem(KEY, $("api-key").value.trim());
      const res = await ask("demo/api/call", { number: $("number").value });
      if (res.status !== 201) return show($("number-error"), messageOf(res));
      challengeId = res.body.id;
      $("number").readOnly = true;
      $("step-call").hidden = false;
      $("step-code").hidden = false;
      $("listen-note").hidden = res.body.shows_heard;
      $("call-state").textContent = `Calling ${res.body.number}…`;
      $("code").maxLength = 10;
      $("code").focus();
      poll();
    } catch (err) {
      show($("number-error"), `could not reach the service: ${err.message}`);
    } finally {
      $("call-button").disabled = challengeId !== null;
    }
  });

  /** Follows the call until it ends, then stops asking. */
  async function poll() {
    clearTimeout(polling);
    if (!challengeId) return;
    const id = challengeId;
    let progress;
    try {
      const res = await ask(`demo/api/call/${encodeURIComponent(id)}`);
      if (res.status !== 200) throw new Error(messageOf(res));
      progress = res.body;
    } catch (err) {
      $("call-state").textContent = `Could not follow the call: ${err.message}`;
      return;
    }
    if (id !== challengeId) return; // "Try another number" was pressed meanwhile.
    render(progress);
    // Until the call ends, or its code expires (a call whose last callback never came).
    if (!CALL_ENDED.includes(progress.call.status) && Date.now() < Date.parse(progress.expires_at)) polling = setTimeout(poll, POLL_MS);
  }

  function render(progress) {
    const reached = new Set(progress.call.events.map((e) => e.status));
    if (reached.has("initiated")) reached.add("queued");
    for (const li of $("progress").children) {
      li.classList.toggle("done", reached.has(li.dataset.status));
    }
    const status = progress.call.status;
    const ending = $("progress").lastElementChild;
    const unanswered = CALL_ENDED.includes(status) && status !== "completed";
    ending.classList.toggle("failed", unanswered);
    if (unanswered) ending.textContent = status;
    let words = STATUS_WORDS[status] || "";
    if (progress.call.answered_by && progress.call.answered_by !== "human") words += ` (answered by: ${progress.call.answered_by})`;
    if (progress.status === "failed") words += " Request another call to try again.";
    $("call-state").textContent = words;
    if (progress.heard) renderHeard(progress.heard);
  }

  /** What the simulated phone heard, one sentence a line, the digits it heard in bold. */
  function renderHeard(sentences) {
    $("heard-box").hidden = false;
    const box = $("heard");
    box.replaceChildren();
    for (const sentence of sentences) {
      const p = document.createElement("p");
      // Runs of single digits ("4 7 1 9 0 3") are the code: set them apart.
      for (const part of sentence.split(/(\d(?:[\s.,]+\d)+)/)) {
        if (!part) continue;
        if (/^\d/.test(part)) {
          const strong = document.createElement("strong");
          strong.textContent = part;
          p.append(strong);
        } else {
          p.append(part);
        }
      }
      box.append(p);
    }
    if (!sentences.length) box.textContent = "(nothing yet)";
  }

  $("code-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    show($("code-error"), "");
    $("check-button").disabled = true;
    try {
      const res = await ask("demo/api/verify", { id: challengeId, auth_code: $("code").value.trim() });
      if (res.status === 200) return approved(res.body);
      if (res.status === 403 && res.body.status === "denied") {
        const left = res.body.reason === "incorrect" ? ` (${res.body.attempts_remaining} left)` : "";
        return show($("code-error"), `Not approved: ${res.body.error.message}${left}.`);
      }
      show($("code-error"), messageOf(res));
    } catch (err) {
      show($("code-error"), `could not reach the service: ${err.message}`);
    } finally {
      $("check-button").disabled = false;
    }
  });

  /** A JWT's payload, decoded: base64url JSON. The signature was checked by the service. */
  function claimsOf(token) {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")), (ch) => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  const CLAIM_NAMES = {
    sub: "the number verified",
    aud: "the service it is for",
    iss: "who issued it",
    iat: "issued at",
    exp: "expires at",
    jti: "the challenge",
    amr: "how",
  };

  function approved(answer) {
    // The steps stay on the page, done: the call's story above the token it earned.
    $("code").readOnly = true;
    $("check-button").hidden = true;
    $("step-result").hidden = false;
    const claims = claimsOf(answer.verification_token);
    const table = $("claims");
    table.replaceChildren();
    for (const [name, value] of Object.entries(claims)) {
      const row = table.insertRow();
      row.dataset.claim = name;
      const th = document.createElement("th");
      th.textContent = name;
      th.title = CLAIM_NAMES[name] || "";
      row.append(th);
      const shown = name === "iat" || name === "exp" ? `${value} (${new Date(value * 1000).toLocaleString()})` : Array.isArray(value) ? value.join(", ") : String(value);
      row.insertCell().textContent = shown;
      row.insertCell().textContent = CLAIM_NAMES[name] || "";
    }
    $("signed-by").textContent = `Signed with EdDSA (Ed25519) by key ${answer.signed_by}: the service checked the signature against the keys it publishes at /.well-known/jwks.json, as your backend would.`;
    $("token").textContent = answer.verification_token;
  }

  $("again").addEventListener("click", () => {
    clearTimeout(polling);
    challengeId = null;
    for (const id of ["step-call", "step-code", "step-result", "heard-box"]) $(id).hidden = true;
    $("step-number").hidden = false;
    $("number").readOnly = false;
    $("call-button").disabled = false;
    $("code").value = "";
    $("code").readOnly = false;
    $("check-button").hidden = false;
    const ending = $("progress").lastElementChild;
    ending.textContent = "ended";
    for (const li of $("progress").children) li.classList.remove("done", "failed");
    $("number").focus();
  });
})();
