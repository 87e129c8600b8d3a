// mltriage monitor dashboard: hand-written SVG time series over the JSON API of `monitor serve`.
// No library, no request leaves the server it came from.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#0a7ea4", "#bc4c00", "#57606a"];
const state = { data: null, alerts: [], days: 0, picked: null, last: null };

// ------------------------------------------------------------------ helpers
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
const ms = (iso) => Date.parse(iso.endsWith("Z") ? iso : iso + "Z");
const isNum = (v) => typeof v === "number" && isFinite(v);
function fmt(v, digits) {
  if (!isNum(v)) return "–";
  const a = Math.abs(v);
  if (digits !== undefined) return v.toFixed(digits);
  if (a === 0) return "0";
  if (a >= 1000) return v.toLocaleString("en", { maximumFractionDigits: 0 });
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(3);
  return v.toExponential(1);
}
function fmtTime(t, withHour) {
  const d = new Date(t);
  const s = d.toISOString();
  return withHour ? s.slice(0, 16).replace("T", " ") : s.slice(0, 10);
}
function fmtTick(v) {  // an axis label: no trailing zeros
  if (Math.abs(v) >= 10000) return v.toLocaleString("en", { maximumFractionDigits: 0 });
  return String(+v.toPrecision(4));
}
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(12));
  return out;
}
async function getJSON(url, opts) {
  const r = await fetch(url, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.status + " " + r.statusText);
  return body;
}

// ------------------------------------------------------------------ one chart
// spec: {title, unit, rightUnit, series: [{name, values, color, band: [lo[], hi[]], dash, width, right}], yMin, yMax}
// (series with right: true are drawn against a second scale, labelled on the right)
function chart(fig, spec) {
  fig.textContent = "";
  const d = state.data;
  const cap = el("figcaption", {}, spec.title);
  fig.appendChild(cap);
  const legend = el("div", { class: "legend" });
  const shown = spec.series.filter((s) => s.values && s.values.some(isNum));
  for (const s of shown) {
    const item = el("span", {});
    const sw = el("i", {});
    sw.style.background = s.color;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(s.name));
    legend.appendChild(item);
  }
  fig.appendChild(legend);
  if (!d || !d.t.length || !shown.length) {
    fig.appendChild(el("div", { class: "empty" }, spec.empty || "nothing logged for this panel"));
    return;
  }
  const right = shown.filter((s) => s.right), left = shown.filter((s) => !s.right);
  const W = Math.max(fig.clientWidth - 20, 300), H = 190, L = 52, R = right.length ? 48 : 10, T = 8, B = 22;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": spec.title });
  const title = svg("title", {});
  title.textContent = spec.title;
  root.appendChild(title);
  const t = d.t, t0 = t[0], t1 = d.tEnd[d.tEnd.length - 1];
  const x = (v) => L + ((v - t0) / Math.max(t1 - t0, 1)) * (W - L - R);
  // a value scale over some series: [lo, hi] and the y of a value
  const scale = (series) => {
    let lo = spec.yMin !== undefined ? spec.yMin : Infinity, hi = spec.yMax !== undefined ? spec.yMax : -Infinity;
    for (const s of series) {
      for (const arr of [s.values, ...(s.band || [])]) {
        for (const v of arr) if (isNum(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
      }
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (spec.yMin === undefined && lo > 0 && lo < (hi - lo)) lo = 0;
    if (!(hi > lo)) hi = lo + (Math.abs(lo) || 1);
    return { lo, hi, y: (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B) };
  };
  const sl = scale(left.length ? left : right), sr = scale(right);
  if (right.length && left.length) {  // headroom, so that the two scales' lines do not sit on each other
    sr.hi = sr.lo + (sr.hi - sr.lo) * 1.35;
    sr.y = (v) => T + (1 - (v - sr.lo) / (sr.hi - sr.lo)) * (H - T - B);
  }
  const y = sl.y;
  const yOf = (s) => (s.right ? sr.y : sl.y);
  // axes and ticks (a second axis on the right for the series drawn against it)
  for (const v of niceTicks(sl.lo, sl.hi, 4)) {
    root.appendChild(svg("line", { class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v), "stroke-opacity": 0.5 }));
    const lab = svg("text", { class: "tick", x: L - 4, y: y(v) + 3, "text-anchor": "end" });
    lab.textContent = fmtTick(v) + (spec.unit || "");
    root.appendChild(lab);
  }
  if (right.length && left.length) {
    for (const v of niceTicks(sr.lo, sr.hi, 4)) {
      const lab = svg("text", { class: "tick", x: W - R + 4, y: sr.y(v) + 3, "text-anchor": "start" });
      lab.textContent = fmtTick(v) + (spec.rightUnit || "");
      lab.setAttribute("fill", right[0].color);
      root.appendChild(lab);
    }
  }
  const span = t1 - t0, day = 86400000;
  const xticks = niceTicks(t0 / day, t1 / day, 6).map((v) => v * day).filter((v) => v >= t0 && v <= t1);
  for (const v of xticks) {
    const lab = svg("text", { class: "tick", x: x(v), y: H - 6, "text-anchor": "middle" });
    lab.textContent = fmtTime(v, span < 3 * day);
    root.appendChild(lab);
  }
  root.appendChild(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  // alert markers: a band over the alert's windows and a triangle on top
  for (const a of state.alerts) {
    const a0 = ms(a.window_start), a1 = ms(a.window_end);
    if (a1 < t0 || a0 > t1) continue;
    const cls = a.severity === "critical" ? "alert-critical" : "alert-warning";
    const xa = x(Math.max(a0, t0)), xb = x(Math.min(a1, t1));
    if (a.status !== "resolved") {  // a band over a live alert's windows; a resolved one keeps its marker
      root.appendChild(svg("rect", { class: `alert-band ${cls}`, x: xa, y: T, width: Math.max(xb - xa, 2), height: H - T - B }));
    }
    const tri = svg("path", { class: `alert-marker ${cls}`, d: `M${xa - 5},${T} L${xa + 5},${T} L${xa},${T + 8} Z` });
    if (a.status === "resolved") tri.setAttribute("fill-opacity", "0.45");
    const tt = svg("title", {});
    tt.textContent = `${a.severity} ${a.code}: ${a.title}`;
    tri.appendChild(tt);
    root.appendChild(tri);
  }
  // bands then lines
  for (const s of shown) {
    if (!s.band) continue;
    const [blo, bhi] = s.band;
    const y = yOf(s);
    let dpath = "", run = [];
    const flush = () => {
      if (run.length) {
        dpath += "M" + run.map((i) => `${x(t[i]).toFixed(1)},${y(bhi[i]).toFixed(1)}`).join("L");
        dpath += "L" + run.slice().reverse().map((i) => `${x(t[i]).toFixed(1)},${y(blo[i]).toFixed(1)}`).join("L") + "Z";
      }
      run = [];
    };
    for (let i = 0; i < t.length; i++) (isNum(blo[i]) && isNum(bhi[i])) ? run.push(i) : flush();
    flush();
    if (dpath) root.appendChild(svg("path", { d: dpath, fill: s.color, "fill-opacity": s.bandOpacity || 0.15, stroke: "none" }));
  }
  for (const s of shown) {
    const y = yOf(s);
    let dpath = "", pen = false, n = 0;
    for (let i = 0; i < t.length; i++) {
      const v = s.values[i];
      if (!isNum(v)) { pen = false; continue; }
      dpath += (pen ? "L" : "M") + x(t[i]).toFixed(1) + "," + y(v).toFixed(1);
      pen = true; n++;
    }
    const attrs = { d: dpath, fill: "none", stroke: s.color, "stroke-width": s.width || 1.5 };
    if (s.dash) attrs["stroke-dasharray"] = s.dash;
    root.appendChild(svg("path", attrs));
    if (n === 1 || t.length <= 60) {  // few windows: dots, so that a lone window shows
      for (let i = 0; i < t.length; i++) if (isNum(s.values[i])) root.appendChild(svg("circle", { cx: x(t[i]), cy: y(s.values[i]), r: 2.2, fill: s.color }));
    }
  }
  // the picked window, the hover line, click to drill down
  if (state.picked !== null && state.picked < t.length) {
    const xp = x(t[state.picked]);
    root.appendChild(svg("line", { class: "pick", x1: xp, x2: xp, y1: T, y2: H - B }));
  }
  const hover = svg("line", { class: "hover", x1: -10, x2: -10, y1: T, y2: H - B });
  root.appendChild(hover);
  const nearest = (ev) => {
    const box = root.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    const tv = t0 + ((px - L) / (W - L - R)) * (t1 - t0);
    // the window that holds the time under the pointer: the last one starting at or before it
    let a = 0, b = t.length - 1;
    while (a < b) { const m = (a + b + 1) >> 1; if (t[m] <= tv) a = m; else b = m - 1; }
    return a;
  };
  const tip = document.getElementById("tip");
  root.addEventListener("mousemove", (ev) => {
    const i = nearest(ev);
    hover.setAttribute("x1", x(t[i])); hover.setAttribute("x2", x(t[i]));
    const lines = [fmtTime(t[i], true) + "  (" + fmt(d.s.volume[i]) + " rows)"];
    for (const s of shown) lines.push(`${s.name}: ${fmt(s.values[i])}${(s.right ? spec.rightUnit : spec.unit) || ""}`);
    tip.textContent = lines.join("\n");
    tip.hidden = false;
    tip.style.left = ev.clientX + 14 + "px"; tip.style.top = ev.clientY + 10 + "px";
  });
  root.addEventListener("mouseleave", () => { tip.hidden = true; hover.setAttribute("x1", -10); hover.setAttribute("x2", -10); });
  root.addEventListener("click", (ev) => pick(nearest(ev)));
  fig.appendChild(root);
}

// ------------------------------------------------------------------ the panels
function draw() {
  const d = state.data;
  const s = d ? d.s : {};
  const psi = d ? d.psi : {};
  const feats = d ? d.features : [];
  chart(document.getElementById("p-drift"), {
    title: "Drift of important features (PSI)",
    series: feats.map((f, i) => ({ name: f, values: psi[f], color: COLORS[i % COLORS.length] })),
    empty: "no feature drift computed yet: run `mltriage monitor check`",
  });
  chart(document.getElementById("p-shares"), {
    title: "Missing, schema and out-of-distribution shares",
    series: [
      { name: "missing (largest rise)", values: s.missing_share, color: COLORS[0] },
      { name: "out of distribution", values: s.ood_share, color: COLORS[1] },
      { name: "schema", values: s.schema_share, color: COLORS[3] },
    ],
  });
  chart(document.getElementById("p-score"), {
    title: "Score distribution (median, 25–75% and 5–95%)",
    series: [
      { name: "median", values: s.score_p50, color: COLORS[3], band: [s.score_p05, s.score_p95], bandOpacity: 0.1 },
      { name: "25–75%", values: s.score_p25, color: COLORS[3], band: [s.score_p25, s.score_p75], bandOpacity: 0.2, width: 0.5 },
    ],
  });
  const metric = d && d.metric ? ` (${d.metric})` : "";
  chart(document.getElementById("p-perf"), {
    title: `Performance${metric}: estimated and realised, with 95% intervals`,
    series: [
      { name: "estimated (CBPE)", values: s.estimated, band: [s.estimated_low, s.estimated_high], color: COLORS[0] },
      { name: "realised", values: s.realised, band: [s.realised_low, s.realised_high], color: COLORS[2] },
      { name: "reference", values: s.reference, color: COLORS[7], dash: "4 3", width: 1 },
    ],
    empty: "no performance yet: labels or a labelled reference are needed",
  });
  chart(document.getElementById("p-labels"), {
    title: "Labels: labelled share (left) and median label lag (right)",
    series: [
      { name: "labelled share", values: s.labelled_share, color: COLORS[2] },
      { name: "label lag (days)", values: (s.label_lag_hours || []).map((v) => (isNum(v) ? v / 24 : v)), color: COLORS[4], right: true },
    ],
    yMin: 0,
    rightUnit: " d",
    empty: "no labels yet: `mltriage monitor label`",
  });
  chart(document.getElementById("p-pred"), {
    title: "Prediction drift (PSI of the scores)",
    series: [{ name: "prediction PSI", values: s.prediction_psi, color: COLORS[5] }],
  });
  chart(document.getElementById("p-volume"), {
    title: "Volume (rows per window)",
    series: [{ name: "rows", values: s.volume, color: COLORS[0] }],
    yMin: 0,
  });
  chart(document.getElementById("p-latency"), {
    title: "Latency percentiles",
    unit: " ms",
    series: [
      { name: "p50", values: s.latency_p50, color: COLORS[2] },
      { name: "p95", values: s.latency_p95, color: COLORS[4] },
      { name: "p99", values: s.latency_p99, color: COLORS[1] },
    ],
    empty: "no latency logged (a latency_ms column)",
  });
}

// ------------------------------------------------------------------ alerts
function alertActions(a) {
  const box = el("span", { class: "actions" });
  if (a.status === "resolved") return box;
  const acked = a.detail && a.detail.acknowledged;
  if (!acked) box.appendChild(el("button", { type: "button", "data-act": "acknowledge", "data-id": a.id }, "acknowledge"));
  box.appendChild(el("button", { type: "button", "data-act": "resolve", "data-id": a.id }, "resolve"));
  return box;
}
function alertTable(alerts) {
  const table = el("table", {});
  const head = el("tr", {});
  for (const h of ["severity", "code", "alert", "windows", "cause", "retrain", "status", ""]) head.appendChild(el("th", {}, h));
  table.appendChild(head);
  for (const a of alerts) {
    const tr = el("tr", { class: `alert-row status-${a.status}`, "data-id": a.id, title: "show this window" });
    const sev = el("td", {});
    sev.appendChild(el("span", { class: `sev ${a.severity}` }, a.severity));
    tr.appendChild(sev);
    const code = el("td", {});
    code.appendChild(el("code", {}, a.code));
    tr.appendChild(code);
    const what = el("td", {}, a.title);
    if (a.columns && a.columns.length) what.appendChild(el("div", { class: "muted" }, a.columns.join(", ")));
    tr.appendChild(what);
    tr.appendChild(el("td", {}, `${fmtTime(ms(a.window_start), true)} → ${fmtTime(ms(a.window_end), true)}`));
    tr.appendChild(el("td", {}, a.cause || ""));
    tr.appendChild(el("td", {}, a.retrain ? "trigger met" : "no"));
    const st = a.detail && a.detail.acknowledged ? a.status + " (acknowledged)" : a.status;
    tr.appendChild(el("td", {}, st));
    const act = el("td", {});
    act.appendChild(alertActions(a));
    tr.appendChild(act);
    table.appendChild(tr);
  }
  return table;
}
function drawAlerts() {
  const box = document.getElementById("alert-list");
  box.textContent = "";
  box.classList.remove("muted");
  const newest = (a, b) => ms(b.window_start) - ms(a.window_start);
  const live = state.alerts.filter((a) => a.status !== "resolved").sort(newest);
  const resolved = state.alerts.filter((a) => a.status === "resolved").sort(newest);
  document.getElementById("alerts-h").textContent = `Alerts (${live.length} open, ${resolved.length} resolved)`;
  if (live.length) box.appendChild(alertTable(live));
  else box.appendChild(el("p", { class: "muted" }, "no open alert"));
  if (resolved.length) {  // folded: a long history must not push the charts away
    const more = el("details", {});
    more.appendChild(el("summary", {}, `${resolved.length} resolved alert(s)`));
    more.appendChild(alertTable(resolved));
    box.appendChild(more);
  }
}
async function act(id, action, button) {
  const token = document.getElementById("token").value || sessionStorage.getItem("mltriage-token") || "";
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  try {
    await getJSON(`/api/alerts/${encodeURIComponent(id)}/${action}`, { method: "POST", headers, body: "{}" });
    if (token) sessionStorage.setItem("mltriage-token", token);
    await loadAlerts();
    draw();
  } catch (e) {
    const msg = el("span", { class: "msg" }, e.message);
    button.after(msg);
    setTimeout(() => msg.remove(), 4000);
  }
}

// ------------------------------------------------------------------ drill-down
function kv(box, label, value) {
  const d = el("div", {});
  d.appendChild(el("span", {}, label));
  d.appendChild(document.createTextNode(value));
  box.appendChild(d);
}
async function pick(i) {
  state.picked = i;
  draw();
  const d = state.data;
  const start = d.s.window_start[i];
  const sec = document.getElementById("detail");
  const body = document.getElementById("detail-body");
  sec.hidden = false;
  document.getElementById("detail-h").textContent = `Window ${start.replace("T", " ")} → ${d.s.window_end[i].replace("T", " ")}`;
  body.textContent = "loading…";
  let rep;
  try {
    rep = await getJSON(`/api/windows/${encodeURIComponent(start)}/report`);
  } catch (e) {
    body.textContent = "could not load this window: " + e.message;
    return;
  }
  body.textContent = "";
  const w = rep.window || {};
  const box = el("div", { class: "kv" });
  kv(box, "rows", fmt(w.rows));
  kv(box, "labelled", fmt(w.labelled_rows));
  kv(box, "largest significant PSI", fmt(w.feature_psi));
  kv(box, "prediction PSI", fmt(w.prediction_psi));
  kv(box, "missing (rise)", fmt(w.missing_share));
  kv(box, "out of distribution", fmt(w.ood_share));
  if (w.estimated) kv(box, `estimated ${w.estimated.metric}`, `${fmt(w.estimated.value)} [${fmt(w.estimated.low)}, ${fmt(w.estimated.high)}]`);
  if (w.realised) kv(box, `realised ${w.realised.metric || ""}`, `${fmt(w.realised.value)} [${fmt(w.realised.low)}, ${fmt(w.realised.high)}]`);
  if (w.latency) kv(box, "latency p50/p95/p99", `${fmt(w.latency.p50)} / ${fmt(w.latency.p95)} / ${fmt(w.latency.p99)} ms`);
  const drifted = Object.entries(w.drifted || {});
  if (drifted.length) kv(box, "drifted", drifted.map(([f, s]) => `${f} (${s})`).join(", "));
  body.appendChild(box);
  for (const a of rep.alerts || []) {
    const f = el("div", { class: `finding ${a.severity}` });
    f.appendChild(el("h4", {}, `alert · ${a.code} · ${a.title}`));
    if (a.root_cause) f.appendChild(el("p", {}, "Cause: " + a.root_cause));
    if (a.fix) f.appendChild(el("p", {}, "Fix: " + a.fix));
    body.appendChild(f);
  }
  const findings = rep.report ? rep.report.findings || [] : [];
  body.appendChild(el("h3", {}, rep.report ? `Findings of the production rung (${findings.length})` : "Findings"));
  if (!rep.report) body.appendChild(el("p", { class: "muted" }, "this window was not diagnosed (check diagnoses alerting windows)"));
  for (const f of findings) {
    const box2 = el("div", { class: `finding ${f.severity}` });
    const h = el("h4", {});
    h.appendChild(el("span", { class: `sev ${f.severity}` }, f.severity));
    h.appendChild(document.createTextNode(" "));
    h.appendChild(el("code", {}, f.code));
    h.appendChild(document.createTextNode(" " + f.title));
    box2.appendChild(h);
    if (f.columns && f.columns.length) box2.appendChild(el("p", { class: "muted" }, f.columns.join(", ")));
    if (f.root_cause) box2.appendChild(el("p", {}, "Cause: " + f.root_cause));
    if (f.fix) box2.appendChild(el("p", {}, "Fix: " + f.fix));
    body.appendChild(box2);
  }
}
function pickTime(iso) {
  const d = state.data;
  if (!d) return;
  const t = ms(iso);
  let best = 0;
  for (let i = 0; i < d.t.length; i++) if (Math.abs(d.t[i] - t) < Math.abs(d.t[best] - t)) best = i;
  pick(best).then(() => document.getElementById("detail").scrollIntoView({ block: "start" }));
}

// ------------------------------------------------------------------ loading
async function loadAlerts() {
  const r = await getJSON("/api/alerts");
  state.alerts = r.alerts || [];
  drawAlerts();
}
async function loadWindows() {
  let q = "";
  if (state.days > 0 && state.last) {
    const start = new Date(state.last - state.days * 86400000).toISOString().slice(0, 19);
    q = "?start=" + encodeURIComponent(start);
  }
  const r = await getJSON("/api/windows" + q);
  const s = r.series;
  state.data = { s, psi: r.psi || {}, features: r.features || [], metric: r.metric, t: s.window_start.map(ms), tEnd: s.window_end.map(ms) };
  if (!state.last && s.window_end.length) state.last = ms(s.window_end[s.window_end.length - 1]);
  state.picked = null;
  document.getElementById("store").textContent = `${r.store} · ${r.count} windows of ${r.window}`;
}
async function load() {
  try {
    await Promise.all([loadWindows(), loadAlerts()]);
    draw();
  } catch (e) {
    document.getElementById("alert-list").textContent = "could not load: " + e.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("ranges").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    for (const o of document.querySelectorAll("#ranges button")) o.classList.toggle("on", o === b);
    state.days = Number(b.dataset.days);
    await loadWindows();
    draw();
  });
  document.getElementById("alert-list").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (b) { ev.stopPropagation(); act(b.dataset.id, b.dataset.act, b); return; }
    const row = ev.target.closest("tr[data-id]");
    const a = row && state.alerts.find((x) => x.id === row.dataset.id);
    if (a) pickTime(a.window_start);
  });
  document.getElementById("unlock").addEventListener("submit", (ev) => ev.preventDefault());
  let resize;
  window.addEventListener("resize", () => { clearTimeout(resize); resize = setTimeout(draw, 150); });
  load();
});
