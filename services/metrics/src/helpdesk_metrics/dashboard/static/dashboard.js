// Helpdesk ops dashboard: reads the metrics API of this origin and polls it; plain JS, no build step.
// Every API call carries `Authorization: Bearer <token>` when a token is known (URL fragment
// `#token=...` or the token field; kept in sessionStorage for this tab only).
"use strict";
(() => {
  const TOKEN_KEY = "helpdesk.dashboard.token";
  const WINDOWS = { "24h": [24 * 3600e3, "hour"], "7d": [7 * 86400e3, "day"],
                    "30d": [30 * 86400e3, "day"], "90d": [90 * 86400e3, "week"] };
  const FILTERS = ["window", "team", "channel", "priority", "hours", "refresh"];
  const HEADLINE = [
    "ticket_volume", "backlog", "high_priority_backlog", "projected_backlog",
    "first_response_time", "resolution_time", "first_contact_resolution", "sla_compliance",
    "sla_breaches", "csat", "nps", "ces", "reopen_rate", "escalation_rate",
    "agent_utilization", "cost_per_ticket",
  ];
  const LABELS = {
    ticket_volume: "Tickets created", high_priority_backlog: "P1/P2 backlog",
    projected_backlog: "Backlog in 14 days", first_response_time: "First response time",
    first_contact_resolution: "First contact resolution", sla_compliance: "SLA compliance",
    sla_breaches: "SLA breaches", csat: "CSAT", nps: "NPS", ces: "CES (1 easy .. 7 hard)",
    average_handle_time: "Average handle time", tier1_resolution_rate: "Tier 1 resolution rate",
    agent_utilization: "Agent utilisation", roi: "ROI", opened_vs_resolved: "Resolved / created",
  };
  const PERSPECTIVES = { financial: "Financial", customer: "Customer",
                         internal_process: "Internal process", learning_growth: "Learning & growth" };
  const STATUS = { met: "Met", at_risk: "At risk", missed: "Missed" };
  // Okabe-Ito palette: distinguishable with colour-vision deficiencies.
  const C = { blue: "#0072B2", orange: "#E69F00", green: "#009E73", red: "#D55E00",
              purple: "#CC79A7", sky: "#56B4E9", grey: "#57606a" };

  const $ = (id) => document.getElementById(id);
  const form = $("filters");
  const statusLine = $("status");
  const charts = {};
  let generation = 0;
  let inFlight = false;
  let timer = null;
  let teamsFor = null;

  // --- token ---------------------------------------------------------------------------------

  function readToken() {
    const match = location.hash.match(/(?:^#|&)token=([^&]*)/);
    if (match) {
      storeToken(decodeURIComponent(match[1]));
      // Drop the token from the address bar (and so from history and bookmarks).
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function storeToken(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    $("token").placeholder = value ? "Token set for this tab" : "Bearer JWT";
  }

  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  async function api(path, params) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v !== "" && v != null) url.searchParams.set(k, v);
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(url, { headers, cache: "no-store" });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not problem+json */ }
      throw new ApiError(response.status, detail);
    }
    return response.json();
  }

  // --- filters -------------------------------------------------------------------------------

  function filters() {
    const data = new FormData(form);
    return Object.fromEntries(FILTERS.map((k) => [k, data.get(k) || ""]));
  }

  function applyUrlFilters() {
    const params = new URLSearchParams(location.search);
    for (const name of FILTERS) {
      const value = params.get(name);
      const select = form.elements[name];
      if (value == null || !select) continue;
      if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
      select.value = value;
    }
  }

  function rememberFilters() {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filters())) if (v) params.set(k, v);
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }

  function query(f) {
    const [span, interval] = WINDOWS[f.window] || WINDOWS["7d"];
    // A fixed `to`, the next whole minute: every call of one refresh, and every refresh and
    // viewer in the same minute, asks for the same window, so metrics computes the trend's
    // previous window (as known at its end) once a minute, not once per refresh (settled.py).
    // Rounded up, not down: a ticket created seconds ago is in the window (metrics counts
    // agents' time online only up to its clock).
    const to = Math.ceil(Date.now() / 60000) * 60000;
    const q = { from: new Date(to - span).toISOString(), to: new Date(to).toISOString(),
                team: f.team, channel: f.channel, priority: f.priority, hours: f.hours };
    return { q, interval };
  }

  // --- formatting ----------------------------------------------------------------------------

  const label = (name) => LABELS[name] || name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " ");

  function duration(s) {
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }

  function format(value, unit) {
    if (value == null) return "—";
    switch (unit) {
      case "seconds": return duration(value);
      case "ratio": return `${(value * 100).toFixed(1)} %`;
      case "score": return value.toFixed(1);
      case "currency": return value.toFixed(2);
      case "index": return value.toFixed(2);
      default: return Number.isInteger(value) ? String(value) : value.toFixed(1);
    }
  }

  const count = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const pct = (v) => (v == null ? "—" : `${(v * 100).toFixed(1)} %`);
  const hours = (v) => (v == null ? null : v / 3600);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null) continue;
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function bucketLabel(iso, interval) {
    const d = new Date(iso);
    if (interval === "hour") return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const day = d.toLocaleDateString([], { day: "numeric", month: "short" });
    if (interval === "week") return `w/c ${day}`;
    return `${d.toLocaleDateString([], { weekday: "short" })} ${day}`;
  }

  // --- tiles ---------------------------------------------------------------------------------

  function tile(kpi) {
    const dir = kpi.direction === "higher" ? "≥" : kpi.direction === "lower" ? "≤" : "";
    const target = kpi.target == null ? "No target" : `Target ${dir} ${format(kpi.target, kpi.unit)}`;
    const state = STATUS[kpi.status] || (kpi.target == null ? "" : "No data");
    const meta = el("p", { class: "meta" }, target, state ? " · " : null,
                    state ? el("span", { class: "state" }, state) : null);
    const extra = [];
    if (kpi.unit === "seconds" && kpi.value != null) {
      extra.push(el("p", { class: "meta" }, `median ${format(kpi.median, "seconds")}, p90 ${format(kpi.p90, "seconds")}`));
    } else if (kpi.unit === "ratio" && kpi.denominator != null) {
      extra.push(el("p", { class: "meta" }, `${count(kpi.numerator)} of ${count(kpi.denominator)}`));
    }
    const t = kpi.trend || {};
    let trend = null;
    if (t.change) {
      const arrow = { up: "▲", down: "▼", flat: "▶" }[t.change];
      const cls = t.better === true ? "better" : t.better === false ? "worse" : null;
      const word = t.better === true ? " (better)" : t.better === false ? " (worse)" : "";
      trend = el("p", { class: "trend" }, el("span", { class: cls },
        `${arrow} from ${format(t.previous, kpi.unit)}${word}`));
    }
    return el("li", { class: "tile", "data-kpi": kpi.name, "data-status": kpi.status || "none" },
      el("article", { "aria-labelledby": `tile-${kpi.name}` },
        el("h3", { id: `tile-${kpi.name}` }, label(kpi.name)),
        el("p", { class: "value", "data-value": kpi.value == null ? "" : String(kpi.value) },
           format(kpi.value, kpi.unit)),
        meta, ...extra, trend));
  }

  function renderTiles(report, qs) {
    const byName = Object.fromEntries(report.kpis.map((k) => [k.name, k]));
    const list = $("tiles");
    list.replaceChildren(...HEADLINE.filter((n) => byName[n]).map((n) => tile(byName[n])));
    list.dataset.query = qs;
  }

  // Counters on <body> (tiles drawn, polls drawn, whole page drawn) let tests wait without sleeping.
  const bump = (name) => { document.body.dataset[name] = String(Number(document.body.dataset[name] || 0) + 1); };

  // --- charts --------------------------------------------------------------------------------

  function chart(id, config) {
    if (!charts[id]) {
      charts[id] = new window.Chart($(id), {
        ...config,
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   interaction: { mode: "index", intersect: false },
                   plugins: { legend: { labels: { color: "#1f2328" } } }, ...config.options },
      });
    } else {
      charts[id].data = config.data;
      charts[id].update("none");
    }
  }

  function describe(id, text) { $(`${id}-d`).textContent = text; }

  const line = (labelText, data, color, extra) => ({
    type: "line", label: labelText, data, borderColor: color, backgroundColor: color,
    pointRadius: 2, borderWidth: 2, spanGaps: true, ...extra });
  const bar = (labelText, data, color, extra) => ({
    type: "bar", label: labelText, data, backgroundColor: color, borderColor: color, ...extra });

  function renderVolume(report) {
    const kpi = report.kpis.find((k) => k.name === "volume_by_channel");
    const counts = (kpi && kpi.breakdown) || {};
    const names = Object.keys(counts);
    chart("c-volume", { type: "bar",
      data: { labels: names, datasets: [bar("Tickets", names.map((n) => counts[n]), C.blue)] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    describe("c-volume", names.length ? names.map((n) => `${n} ${counts[n]}`).join(", ") : "No tickets.");
  }

  function renderOpened(points, interval) {
    const labels = points.map((p) => bucketLabel(p.from, interval));
    const created = points.map((p) => (p.details || {}).created ?? null);
    const resolved = points.map((p) => (p.details || {}).resolved ?? null);
    chart("c-opened", { type: "bar",
      data: { labels, datasets: [bar("Created", created, C.blue), bar("Resolved", resolved, C.orange)] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    describe("c-opened", `Created ${created.reduce((a, b) => a + (b || 0), 0)}, resolved ${resolved.reduce((a, b) => a + (b || 0), 0)} in the window.`);
  }

  function renderBacklog(points, forecast, interval) {
    const history = points.map((p) => p.value);
    const labels = points.map((p) => bucketLabel(p.from, interval))
      .concat(forecast.points.map((p) => `+${p.day}d`));
    const pad = (values) => history.map((_, i) => (i === history.length - 1 ? history[i] : null)).concat(values);
    chart("c-backlog", { type: "line",
      data: { labels, datasets: [
        line("Backlog", history, C.blue),
        line("Forecast upper (95 %)", pad(forecast.points.map((p) => p.upper)), "rgba(230,159,0,0.5)",
             { pointRadius: 0, borderWidth: 1, fill: false }),
        line("Forecast lower (95 %)", pad(forecast.points.map((p) => p.lower)), "rgba(230,159,0,0.5)",
             { pointRadius: 0, borderWidth: 1, fill: "-1", backgroundColor: "rgba(230,159,0,0.2)" }),
        line("Forecast", pad(forecast.points.map((p) => p.expected)), C.red, { borderDash: [6, 4], pointRadius: 0 }),
      ] },
      options: { scales: { y: { beginAtZero: true } } } });
    const last = forecast.points[forecast.points.length - 1];
    describe("c-backlog", `Backlog now ${forecast.backlog}; in ${last ? last.day : 0} days expected ${last ? last.expected.toFixed(1) : "—"} (${last ? last.lower.toFixed(1) : "—"} to ${last ? last.upper.toFixed(1) : "—"}).`);
  }

  function renderPercentiles(id, points, interval) {
    const labels = points.map((p) => bucketLabel(p.from, interval));
    chart(id, { type: "line",
      data: { labels, datasets: [
        line("Mean", points.map((p) => hours(p.mean)), C.blue),
        line("Median", points.map((p) => hours(p.median)), C.green),
        line("p90", points.map((p) => hours(p.p90)), C.red, { borderDash: [4, 3] }),
      ] },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "hours" } } } } });
    const last = [...points].reverse().find((p) => p.mean != null);
    describe(id, last ? `Latest bucket: mean ${duration(last.mean)}, median ${duration(last.median)}, p90 ${duration(last.p90)}.` : "No data.");
  }

  function renderSla(compliance, breaches, interval) {
    const labels = compliance.map((p) => bucketLabel(p.from, interval));
    chart("c-sla", { type: "bar",
      data: { labels, datasets: [
        line("Compliance %", compliance.map((p) => (p.value == null ? null : p.value * 100)), C.green, { yAxisID: "y" }),
        bar("Breaches", breaches.map((p) => p.value), C.red, { yAxisID: "y1" }),
      ] },
      options: { scales: {
        y: { min: 0, max: 100, title: { display: true, text: "compliance %" } },
        y1: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false },
              title: { display: true, text: "breaches" } } } } });
    const total = breaches.reduce((a, p) => a + (p.value || 0), 0);
    describe("c-sla", `${total} breaches in the window.`);
  }

  function renderCx(csat, nps, ces, interval) {
    const labels = csat.map((p) => bucketLabel(p.from, interval));
    chart("c-cx", { type: "line",
      data: { labels, datasets: [
        line("CSAT %", csat.map((p) => (p.value == null ? null : p.value * 100)), C.blue, { yAxisID: "y" }),
        line("NPS", nps.map((p) => p.value), C.purple, { yAxisID: "y" }),
        line("CES", ces.map((p) => p.value), C.orange, { yAxisID: "y1", borderDash: [4, 3] }),
      ] },
      options: { scales: {
        y: { min: -100, max: 100, title: { display: true, text: "CSAT % / NPS" } },
        y1: { position: "right", min: 1, max: 7, grid: { drawOnChartArea: false }, title: { display: true, text: "CES" } } } } });
    const lastOf = (ps) => { const p = [...ps].reverse().find((x) => x.value != null); return p ? p.value : null; };
    describe("c-cx", `Latest: CSAT ${pct(lastOf(csat))}, NPS ${format(lastOf(nps), "score")}, CES ${format(lastOf(ces), "score")}.`);
  }

  // --- tables --------------------------------------------------------------------------------

  function renderAgents(doc) {
    const rows = doc.agents.map((a) => el("tr", { "data-agent": a.agent },
      el("th", { scope: "row" }, a.agent), el("td", {}, String(a.resolved)),
      el("td", {}, format(a.first_response_time, "seconds")), el("td", {}, format(a.resolution_time, "seconds")),
      el("td", {}, pct(a.fcr)), el("td", {}, pct(a.csat)), el("td", {}, pct(a.reopen_rate)),
      el("td", {}, pct(a.utilization)), el("td", {}, format(a.competence_index, "index"))));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "9" }, "No agent activity in this window.")));
    $("agents").tBodies[0].replaceChildren(...rows);
  }

  // What GET /v1/agents/performance returns, from the report: KPI 28's rows joined with
  // KPI 29's competence index (that route would load the window's rows again).
  function agents(report) {
    const byName = Object.fromEntries(report.kpis.map((k) => [k.name, k]));
    const rows = ((byName.agent_performance || {}).details || {}).agents || [];
    const index = new Map((((byName.competence_index || {}).details || {}).agents || [])
      .map((a) => [a.agent, a.competence_index]));
    return { agents: rows.map((r) => ({ ...r, competence_index: index.get(r.agent) ?? null })) };
  }

  // What GET /v1/backlog/forecast?days=14 returns, from the report's KPI 7 (projected_backlog).
  function forecast(report) {
    const kpi = report.kpis.find((k) => k.name === "projected_backlog");
    const d = (kpi && kpi.details) || {};
    return { backlog: d.backlog, points: d.points || [] };
  }

  // What GET /v1/scorecard returns, from the report already drawn and the baseline values.
  function scorecard(report, baseline) {
    const perspectives = Object.fromEntries(Object.keys(PERSPECTIVES).map((p) => [p, []]));
    for (const k of report.kpis) {
      const item = { name: k.name, value: k.value, unit: k.unit, target: k.target,
        direction: k.direction, status: k.status, trend: k.trend ?? null,
        baseline: baseline[k.name] ?? null };
      for (const p of k.perspectives) (perspectives[p] ||= []).push(item);
    }
    return { perspectives };
  }

  function renderScorecard(card) {
    const tables = Object.entries(PERSPECTIVES).map(([key, title]) => {
      const rows = (card.perspectives[key] || []).map((k) => {
        const t = k.trend || {};
        const trend = t.change ? `${{ up: "▲", down: "▼", flat: "▶" }[t.change]}${t.better === true ? " better" : t.better === false ? " worse" : ""}` : "—";
        return el("tr", { "data-kpi": k.name },
          el("th", { scope: "row" }, label(k.name)), el("td", {}, format(k.value, k.unit)),
          el("td", {}, k.target == null ? "—" : `${k.direction === "higher" ? "≥" : "≤"} ${format(k.target, k.unit)}`),
          el("td", {}, format(k.baseline ?? null, k.unit)),
          el("td", { class: k.status ? `state-${k.status}` : null }, STATUS[k.status] || "—"),
          el("td", {}, trend));
      });
      const head = el("tr", {}, ...["KPI", "Value", "Target", "Baseline", "Status", "Trend"]
        .map((h) => el("th", { scope: "col" }, h)));
      return el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": title },
        el("table", { "data-perspective": key }, el("caption", {}, title),
           el("thead", {}, head), el("tbody", {}, ...rows)));
    });
    $("scorecard").replaceChildren(...tables);
  }

  async function refreshTeams(f, q) {
    // The team list: teams seen among the window's tickets (metrics knows no other list).
    const key = `${q.from.slice(0, 13)}|${f.window}`;
    if (teamsFor === key) return;
    const doc = await api("/v1/kpis/ticket_volume/breakdown", { ...q, team: "", by: "team" });
    teamsFor = key;
    const select = form.elements.team;
    const current = select.value;
    const teams = doc.rows.map((r) => r.team);
    if (current && !teams.includes(current)) teams.push(current);
    select.replaceChildren(new Option("All teams", ""), ...teams.sort().map((t) => new Option(t, t)));
    select.value = current;
  }

  // --- refresh loop --------------------------------------------------------------------------

  function showError(err) {
    statusLine.classList.add("error");
    statusLine.textContent = err.status === 401
      ? "The API needs a token: paste one into “API token” (or open the page with #token=…)."
      : err.status === 403 ? "This token may not read the metrics API."
      : `Could not load the KPIs: ${err.message}`;
  }

  const SERIES = ["opened_vs_resolved", "backlog", "first_response_time", "resolution_time",
    "sla_compliance", "sla_breaches", "csat", "nps", "ces"];

  async function refresh(byPoll = false) {
    const mine = ++generation;
    inFlight = true;
    const f = filters();
    const { q, interval } = query(f);
    const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v)).toString();
    statusLine.classList.remove("error");
    statusLine.textContent = "Updating…";
    try {
      const report = await api("/v1/kpis", q);
      if (mine !== generation) return;
      renderTiles(report, qs);
      bump("tiles");
      if (byPoll) bump("polls");
      renderVolume(report);
      // One call for every chart's series: the server reads each bucket's rows once for all.
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      // The forecast, the agents table and the scorecard come from the report (their own
      // routes would compute it again): only the scorecard's baseline is asked for.
      const [many, baseline] = await Promise.all([
        api("/v1/kpis/series", { ...q, interval, tz, names: SERIES.join(",") }),
        api("/v1/scorecard/baseline", q),
        refreshTeams(f, q),
      ]);
      if (mine !== generation) return;
      const [opened, backlog, frt, res, compliance, breaches, csat, nps, ces] = many.series;
      renderOpened(opened.points, interval);
      renderBacklog(backlog.points, forecast(report), interval);
      renderPercentiles("c-frt", frt.points, interval);
      renderPercentiles("c-res", res.points, interval);
      renderSla(compliance.points, breaches.points, interval);
      renderCx(csat.points, nps.points, ces.points, interval);
      renderAgents(agents(report));
      renderScorecard(scorecard(report, baseline.values));
      const at = new Date(q.to).toLocaleTimeString();
      statusLine.textContent = `Updated ${at} (${report.hours} hours).`;
      bump("refreshed");
    } catch (err) {
      if (mine === generation) showError(err);
    } finally {
      if (mine === generation) {
        inFlight = false;
        schedule();
      }
    }
  }

  function schedule() {
    // The next poll counts from the end of the last refresh, so polls never pile up.
    clearTimeout(timer);
    const seconds = Number(filters().refresh);
    if (!seconds) return;
    timer = setTimeout(() => {
      if (document.hidden || inFlight) schedule();
      else refresh(true);
    }, seconds * 1000);
  }

  function start() {
    storeToken(readToken());
    applyUrlFilters();
    form.addEventListener("change", () => { rememberFilters(); refresh(); });
    form.addEventListener("submit", (e) => e.preventDefault());
    $("refresh-now").addEventListener("click", () => refresh());
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      storeToken($("token").value.trim());
      $("token").value = "";
      teamsFor = null;
      refresh();
    });
    window.Chart.defaults.color = "#1f2328";
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    refresh();
  }

  start();
})();
