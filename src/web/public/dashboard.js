// prescale live dashboard: plain ES module, no build step. Data arrives over server-sent events
// from GET /v1/events (src/web/dashboard-router.ts): one `snapshot`, then a `tick` per control-loop
// tick and a `backends` table every second or so. Charts are uPlot 1.6, served from node_modules.
import { fmtRps, makeCharts } from '/dashboard/assets/charts.js';

const $ = (id) => document.getElementById(id);
const state = {
  meta: null,
  nowT: null,
  observed: new Map(),
  band: new Map(),
  capacity: new Map(),
  decisions: [],
  backends: [],
};
/** What a test or a curious user can read: counts of points drawn and events received. */
const stats = { snapshots: 0, ticks: 0, backendUpdates: 0, observedPoints: 0, bandPoints: 0, bandAheadPoints: 0, capacityPoints: 0, backends: 0, decisions: 0, nowT: null };
window.__prescale = stats;

const fmtTime = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

let charts = null;

/** Drop points older than the window the server keeps. */
function trim() {
  const { intervalMs, historyIntervals } = state.meta;
  const minT = state.nowT - historyIntervals * intervalMs;
  for (const map of [state.observed, state.band, state.capacity]) {
    for (const t of map.keys()) if (t < minT) map.delete(t);
  }
}

function drawCharts() {
  const { capacityPerBackendRps, targetUtilization } = state.meta;
  const ts = [...new Set([...state.observed.keys(), ...state.band.keys(), ...state.capacity.keys()])].sort((a, b) => a - b);
  const x = ts.map((t) => t / 1000);
  const band = ts.map((t) => state.band.get(t));
  const cap = ts.map((t) => state.capacity.get(t));
  charts.rps.setData([
    x,
    band.map((p) => (p ? p.upperRps : null)),
    band.map((p) => (p ? p.pointRps : null)),
    ts.map((t) => state.observed.get(t)?.rps ?? null),
    cap.map((c) => (c ? c.ready * capacityPerBackendRps * targetUtilization : null)),
  ]);
  charts.capacity.setData([x, cap.map((c) => (c ? c.ready : null)), cap.map((c) => (c ? c.desired : null))]);
  stats.observedPoints = state.observed.size;
  stats.bandPoints = state.band.size;
  stats.bandAheadPoints = [...state.band.keys()].filter((t) => t >= state.nowT).length;
  stats.capacityPoints = state.capacity.size;
  stats.nowT = state.nowT;
  const rpsEl = $('chart-rps');
  rpsEl.dataset.observedPoints = String(stats.observedPoints);
  rpsEl.dataset.bandPoints = String(stats.bandPoints);
  rpsEl.dataset.bandAheadPoints = String(stats.bandAheadPoints);
  rpsEl.dataset.capacityPoints = String(stats.capacityPoints);
  $('chart-capacity').dataset.capacityPoints = String(stats.capacityPoints);
}

function drawCards() {
  const lastObserved = [...state.observed.values()].at(-1);
  const d = state.decisions.at(-1);
  $('now-rps').textContent = lastObserved ? `${fmtRps(lastObserved.rps)} rps` : '–';
  $('now-forecast').textContent = d && d.forecastUpperRps != null ? `${fmtRps(d.forecastUpperRps)} rps` : 'no forecast';
  $('now-capacity').textContent = d ? `${d.desired} / ${state.capacity.get(state.nowT)?.ready ?? '–'}` : '–';
  $('now-model').textContent = d?.model ? d.model + (d.fallback ? ' (fallback)' : '') : '–';
  $('now-reason').replaceChildren(...(d ? [el('span', d.reason, `badge ${d.reason}`), el('span', ` ${d.detail}`)] : []));
}

function drawDecisions() {
  const rows = state.decisions.slice().reverse().map((d) => {
    const tr = el('tr');
    if (d.previous != null && d.previous !== d.desired) tr.className = 'changed';
    const badge = el('td');
    badge.append(el('span', d.reason, `badge ${d.reason}`));
    const change = d.previous != null && d.previous !== d.desired ? `${d.previous} → ${d.desired}` : String(d.desired);
    tr.append(el('td', fmtTime(d.atMs)), el('td', change, 'num'), badge, el('td', d.detail, 'detail'));
    return tr;
  });
  $('decisions').tBodies[0].replaceChildren(...rows);
  stats.decisions = state.decisions.length;
}

function drawBackends() {
  const rows = state.backends.map((b) => {
    const tr = el('tr');
    const st = b.state === 'ready' && !b.healthy ? 'down' : b.ejected ? 'ejected' : b.state;
    const stateCell = el('td');
    stateCell.append(el('span', st, `badge ${st}`));
    const id = el('td', b.id);
    id.title = b.url;
    tr.append(id, stateCell, el('td', b.weight, 'num'), el('td', Number(b.effectiveWeight.toFixed(2)), 'num'), el('td', b.inFlight, 'num'), el('td', fmtRps(b.rps), 'num'), el('td', b.latencyMs.toFixed(1), 'num'), el('td', b.errors, 'num'));
    return tr;
  });
  $('backends').tBodies[0].replaceChildren(...rows);
  $('backends-caption').textContent = `${state.backends.length} in the pool, ${state.backends.filter((b) => b.state === 'ready' && b.healthy).length} ready`;
  stats.backends = state.backends.length;
}

function onSnapshot(s) {
  state.meta = s.meta;
  for (const map of [state.observed, state.band, state.capacity]) map.clear();
  for (const p of s.observed) state.observed.set(p.t, p);
  for (const p of s.capacity) state.capacity.set(p.t, p);
  for (const p of s.band) state.band.set(p.t, p);
  const aligned = Math.floor(s.nowMs / s.meta.intervalMs) * s.meta.intervalMs;
  state.nowT = s.capacity.at(-1)?.t ?? aligned;
  state.decisions = s.decisions;
  state.backends = s.backends;
  $('rps-caption').textContent = `offered load, forecast point to p${Math.round(s.meta.quantile * 100)} upper bound, ready capacity at ${Math.round(s.meta.targetUtilization * 100)}% of ${s.meta.capacityPerBackendRps} rps per backend; ${s.meta.intervalMs / 1000} s intervals, shaded: ahead of now`;
  charts ??= makeCharts(s.meta, $('chart-rps'), $('chart-capacity'), () => state.nowT);
  stats.snapshots++;
  trim();
  drawCharts();
  drawCards();
  drawDecisions();
  drawBackends();
}

function onTick(e) {
  if (!state.meta) return;
  if (e.observed) state.observed.set(e.observed.t, e.observed);
  state.capacity.set(e.t, e.capacity);
  // a newer forecast replaces the older one for the intervals it covers; none this tick: drop the stale ones ahead
  if (e.band.length === 0) for (const t of [...state.band.keys()]) if (t >= e.t) state.band.delete(t);
  for (const p of e.band) state.band.set(p.t, p);
  state.nowT = e.t;
  state.decisions.push(e.decision);
  if (state.decisions.length > 15) state.decisions.shift();
  stats.ticks++;
  trim();
  drawCharts();
  drawCards();
  drawDecisions();
}

function onBackends(e) {
  state.backends = e.backends;
  stats.backendUpdates++;
  drawBackends();
}

function connect() {
  const status = $('status');
  const setStatus = (s, text) => {
    status.dataset.state = s;
    status.textContent = text;
  };
  const es = new EventSource('/v1/events');
  es.addEventListener('open', () => setStatus('live', 'live'));
  es.addEventListener('error', () => setStatus(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting', es.readyState === EventSource.CLOSED ? 'disconnected (reload to retry)' : 'reconnecting…'));
  es.addEventListener('snapshot', (m) => onSnapshot(JSON.parse(m.data)));
  es.addEventListener('tick', (m) => onTick(JSON.parse(m.data)));
  es.addEventListener('backends', (m) => onBackends(JSON.parse(m.data)));
}

async function loadPlots() {
  const list = $('plots');
  try {
    const res = await fetch('/v1/plots');
    const { dir, plots } = await res.json();
    if (plots.length === 0) {
      list.replaceChildren(el('li', `none yet in ${dir}/; write one with --plot ${dir}/<name>.svg`, 'empty'));
      return;
    }
    list.replaceChildren(...plots.map((p) => {
      const li = el('li');
      const b = el('button', p.name);
      b.type = 'button';
      b.title = `${(p.bytes / 1024).toFixed(0)} KiB, ${new Date(p.modifiedMs).toLocaleString()}`;
      b.addEventListener('click', () => showPlot(p, b));
      li.append(b);
      return li;
    }));
  } catch (err) {
    list.replaceChildren(el('li', `plots unavailable: ${err}`, 'empty'));
  }
}

function showPlot(p, button) {
  for (const b of $('plots').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
  const fig = $('plot-view');
  fig.hidden = false;
  fig.querySelector('img').src = `/plots/${encodeURIComponent(p.name)}`;
  fig.querySelector('img').alt = p.name;
  fig.querySelector('figcaption').textContent = `${p.name} · ${new Date(p.modifiedMs).toLocaleString()} · open: /plots/${p.name}`;
}

connect();
void loadPlots();
