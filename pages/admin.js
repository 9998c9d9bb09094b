// The /admin page: sign in with an admin key, then read the admin API with it: a service's
// recent challenges, its statistics and event deliveries drawn by uPlot, the services and
// their keys. Plain browser JavaScript, no framework and no build step.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const KEY = "voice-otp-admin-key";
  const HEIGHT = 220;
  const COLORS = { calls: "#2f5bea", answered: "#8ea5f5", approved: "#1a7f4b", conversion: "#9a6700", retrying: "#9a6700", failed: "#b42318", refusals: "#b42318" };

  /** Each chart's uPlot instance by name: what it draws is `.data` (x values first, then one array per series). */
  const charts = {};
  window.voiceOtpCharts = charts;

  class SignedOut extends Error {}

  /** GETs from the admin API with the key; a refused key signs the page out. */
  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` } });
    const body = await res.json().catch(() => ({}));
    const message = (body.error && body.error.message) || `the service answered ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      signOut(`That key was refused: ${message}`);
      throw new SignedOut(message);
    }
    if (!res.ok) throw new Error(message);
    return body;
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY);
    $("console").hidden = true;
    $("session").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = reason || "";
    $("sign-in-error").hidden = !reason;
    $("admin-key").value = "";
  }

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("admin-key").value.trim());
    $("sign-in-button").disabled = true;
    try {
      await start();
    } finally {
      $("sign-in-button").disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("refresh").addEventListener("click", () => void start());
  $("service").addEventListener("change", () => void load());
  $("days").addEventListener("change", () => void load());

  /** Signed in: the services first (the key's proof), then the selected service's activity. */
  async function start() {
    let services;
    try {
      services = (await api("services")).services;
    } catch (err) {
      if (!(err instanceof SignedOut)) signOut(`Could not reach the service: ${err.message}`);
      return;
    }
    $("sign-in").hidden = true;
    $("sign-in-error").hidden = true;
    $("console").hidden = false;
    $("session").hidden = false;
    const select = $("service");
    const chosen = select.value || "default";
    select.replaceChildren(...services.map((s) => new Option(s.id === "default" ? "default" : `${s.name} (${s.id})`, s.id)));
    select.value = services.some((s) => s.id === chosen) ? chosen : "default";
    await Promise.all([load(), showServices(services)]);
  }

  /** The first UTC day of the range: today and the days before it. */
  function since() {
    const days = Number($("days").value);
    return new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  }

  async function load() {
    const service = `services/${encodeURIComponent($("service").value)}`;
    const range = `since=${since()}`;
    $("load-error").hidden = true;
    try {
      const [challenges, byDay, byCountry, deliveries] = await Promise.all([
        api(`${service}/challenges?limit=20`),
        api(`${service}/stats?${range}`),
        api(`${service}/stats?${range}&group_by=country`),
        api(`${service}/event-deliveries?${range}`),
      ]);
      showChallenges(challenges.challenges);
      showDays(byDay);
      showCountries(byCountry);
      showRefusals(byDay.totals.refusals);
      showDeliveries(deliveries);
    } catch (err) {
      if (err instanceof SignedOut) return;
      $("load-error").textContent = `Could not load: ${err.message}`;
      $("load-error").hidden = false;
    }
  }

  // ---- tables -------------------------------------------------------------------

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

  function showChallenges(list) {
    const body = $("challenges").tBodies[0];
    body.replaceChildren();
    $("challenges-empty").hidden = list.length > 0;
    for (const c of list) {
      const row = body.insertRow();
      row.dataset.id = c.id;
      cell(row, when(c.created_at));
      cell(row, c.number, "mono");
      const status = document.createElement("span");
      status.className = `status ${c.status}`;
      status.textContent = c.status;
      row.insertCell().append(status);
      const call = [c.call.status || "not placed", c.call.answered_by].filter(Boolean).join(" · ");
      cell(row, c.failure_code ? `${call} (${c.failure_code})` : call);
      const approvedIn = c.status === "approved" && c.ended_at ? `${((Date.parse(c.ended_at) - Date.parse(c.created_at)) / 1000).toFixed(1)} s` : "—";
      cell(row, approvedIn, "num");
      cell(row, c.language);
      cell(row, c.api_key || "—", "mono");
    }
  }

  async function showServices(services) {
    const keys = await Promise.all(services.map((s) => api(`services/${encodeURIComponent(s.id)}/keys`).then((k) => k.keys, () => null)));
    const body = $("services").tBodies[0];
    body.replaceChildren();
    services.forEach((s, i) => {
      const row = body.insertRow();
      cell(row, s.name);
      cell(row, s.id, "mono");
      const own = Object.keys(s.own_settings);
      cell(row, s.editable ? (own.length ? own.join(", ") : "none: the default's") : "the environment's variables");
      const td = row.insertCell();
      if (keys[i] === null) td.textContent = "?";
      else if (keys[i].length === 0) td.textContent = "none";
      for (const k of keys[i] || []) {
        const span = document.createElement("span");
        span.className = k.revoked_at ? "mono revoked" : "mono";
        span.title = k.revoked_at ? `revoked ${when(k.revoked_at)}` : k.source === "environment" ? "from API_KEYS" : `created ${when(k.created_at)}`;
        span.textContent = k.name;
        if (td.childNodes.length) td.append(", ");
        td.append(span);
      }
      cell(row, s.created_at ? when(s.created_at) : "—");
    });
  }

  function showFailing(failing) {
    const body = $("failing").tBodies[0];
    body.replaceChildren();
    $("failing-empty").hidden = failing.length > 0;
    for (const e of failing) {
      const row = body.insertRow();
      cell(row, e.id, "mono");
      cell(row, e.type);
      cell(row, String(e.attempts), "num");
      cell(row, e.last_status !== null ? `HTTP ${e.last_status}` : e.last_error || "—");
      cell(row, e.state === "failed" ? "given up" : when(e.next_attempt_at));
    }
  }

  // ---- charts (uPlot) ------------------------------------------------------------

  const utcDay = (key) => Date.parse(`${key}T00:00:00Z`) / 1000;
  const percent = (v) => (v === null || v === undefined ? "--" : `${Math.round(v * 100)}%`);
  // Days are UTC days: draw their axis in UTC whatever the browser's zone.
  const tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
  // Ticks a day apart at least: the data is per day, hours between would mean nothing.
  const dayAxis = { incrs: [86_400, 2 * 86_400, 7 * 86_400, 14 * 86_400, 28 * 86_400] };
  // Counts start at zero, with a little room above the highest.
  const fromZero = { range: (u, min, max) => [0, Math.max(1, max) * 1.15] };
  const line = (label, color) => ({ label, stroke: color, width: 2, points: { show: true, size: 5 } });
  const bars = (label, color, size) => ({ label, stroke: color, fill: color, paths: uPlot.paths.bars({ size: [size, 60] }), points: { show: false } });

  /** Draws (or redraws) a chart in its box; a chart with nothing to draw says so instead. */
  function draw(name, opts, data, emptyText) {
    const box = $(`chart-${name}`);
    if (charts[name]) charts[name].destroy();
    delete charts[name];
    box.replaceChildren();
    if (emptyText && data[0].length === 0) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = emptyText;
      box.append(p);
      return;
    }
    charts[name] = new uPlot({ width: Math.max(280, box.clientWidth), height: HEIGHT, ...opts }, data, box);
  }

  /** A chart whose x values are categories (countries, limits): one bar group at each index. */
  function categorical(labels, extra) {
    const splits = labels.map((_, i) => i);
    return {
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: fromZero, ...(extra.scales || {}) },
      axes: [{ splits: () => splits, values: (u, ticks) => ticks.map((i) => labels[i] ?? ""), grid: { show: false } }, {}, ...(extra.axes || [])],
      series: [{ label: extra.x, value: (u, i) => (i === null ? "--" : labels[i] ?? "") }, ...extra.series],
    };
  }

  function showDays(stats) {
    const xs = stats.groups.map((g) => utcDay(g.key));
    draw(
      "calls",
      { tzDate, scales: { y: fromZero }, axes: [dayAxis, {}], series: [{ label: "day" }, line("calls placed", COLORS.calls), line("answered", COLORS.answered), line("approved", COLORS.approved)] },
      [xs, stats.groups.map((g) => g.calls_placed), stats.groups.map((g) => g.answered), stats.groups.map((g) => g.approved)],
    );
    draw(
      "conversion",
      {
        tzDate,
        scales: { y: { range: [0, 1] } },
        axes: [dayAxis, { values: (u, ticks) => ticks.map(percent) }],
        series: [{ label: "day" }, { ...line("approved / requested", COLORS.conversion), value: (u, v) => percent(v) }],
      },
      // A day without requests has no conversion: a gap, not a zero.
      [xs, stats.groups.map((g) => (g.requests ? g.conversion_rate : null))],
    );
  }

  function showCountries(stats) {
    const groups = stats.groups;
    const labels = groups.map((g) => g.key || "unknown");
    draw(
      "countries",
      categorical(labels, {
        x: "country",
        scales: { pct: { range: [0, 1] } },
        axes: [{ scale: "pct", side: 1, values: (u, ticks) => ticks.map(percent), grid: { show: false } }],
        // Nested bars: calls placed, of them answered, of them approved; conversion as a dot on the right axis.
        series: [
          bars("calls placed", COLORS.calls, 0.7),
          bars("answered", COLORS.answered, 0.45),
          bars("approved", COLORS.approved, 0.2),
          { label: "conversion", scale: "pct", stroke: COLORS.conversion, paths: () => null, points: { show: true, size: 9, fill: COLORS.conversion }, value: (u, v) => percent(v) },
        ],
      }),
      [groups.map((_, i) => i), groups.map((g) => g.calls_placed), groups.map((g) => g.answered), groups.map((g) => g.approved), groups.map((g) => g.conversion_rate)],
      "No calls in this range.",
    );
  }

  function showRefusals(refusals) {
    const limits = Object.keys(refusals).sort();
    draw(
      "refusals",
      categorical(limits, { x: "limit", series: [bars("refused requests", COLORS.refusals, 0.5)] }),
      [limits.map((_, i) => i), limits.map((l) => refusals[l])],
      "No request was refused by a limit in this range.",
    );
  }

  function showDeliveries(found) {
    const xs = found.days.map((d) => utcDay(d.day));
    draw(
      "deliveries",
      { tzDate, scales: { y: fromZero }, axes: [dayAxis, {}], series: [{ label: "day" }, line("delivered", COLORS.approved), line("retrying", COLORS.retrying), line("failed", COLORS.failed)] },
      [xs, found.days.map((d) => d.delivered), found.days.map((d) => d.retrying), found.days.map((d) => d.failed)],
    );
    showFailing(found.failing);
  }

  window.addEventListener("resize", () => {
    for (const [name, chart] of Object.entries(charts)) chart.setSize({ width: Math.max(280, $(`chart-${name}`).clientWidth), height: HEIGHT });
  });

  if (sessionStorage.getItem(KEY)) void start();
})();
