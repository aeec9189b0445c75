// Live ops dashboard: a one-use ticket bought with the admin token (POST) opens a Server-Sent Events stream of one
// snapshot per second; the token itself never goes into the URL. Charts are small inline SVGs drawn here.
import { api, token } from './api.js';

const $ = (sel) => document.querySelector(sel);
const HISTORY = 60;
const history = new Map(); // app -> [{req, thr}]
let source = null;

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) {
    node.append(c);
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

function sparkline(points) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${HISTORY} 48`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const max = Math.max(1, ...points.map((p) => Math.max(p.req, p.thr)));
  for (const [key, cls] of [['req', 'req'], ['thr', 'thr']]) {
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('class', cls);
    const offset = HISTORY - points.length;
    line.setAttribute('points', points.map((p, i) => `${offset + i},${(46 - (p[key] / max) * 44).toFixed(1)}`)
      .join(' '));
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.append(line);
  }
  const label = document.createElementNS(SVG, 'title');
  label.textContent = 'peak ' + max.toFixed(1) + '/s';
  svg.append(label);
  return svg;
}

function card(app) {
  const points = history.get(app.app) || [];
  const recentThrottle = points.slice(-10).some((p) => p.thr > 0);
  const reasons = Object.entries(app.throttled_by_reason).filter(([, v]) => v > 0)
    .map(([k, v]) => k + ' ' + v.toFixed(1) + '/s').join(', ');
  const c = el('div', { className: 'card' + (recentThrottle ? ' throttling' : '') },
    el('h3', {}, app.app, el('span', { className: 'num', textContent: app.requests_per_s.toFixed(1) + ' req/s' })),
    sparkline(points),
    el('div', {}, 'throttled ', el('span', { className: 'num throttled', textContent:
      app.throttled_per_s.toFixed(1) + '/s' }), el('span', { className: 'muted', textContent:
      ' (' + app.throttled_total + ' total)' + (reasons ? ' · ' + reasons : '') })),
    el('div', {}, 'in flight ', el('span', { className: 'num', textContent: app.in_flight })));
  if (app.budget_limit) {
    const pct = Math.min(100, (100 * (app.budget_used || 0)) / app.budget_limit);
    const fill = el('div', { className: pct >= 80 ? 'high' : '' });
    fill.style.width = pct.toFixed(1) + '%';
    c.append(el('div', { className: 'muted', textContent: 'budget ' + (app.budget_used || 0).toFixed(0) + ' of '
      + app.budget_limit.toFixed(0) + ' units' }), el('div', { className: 'bar' }, fill));
  }
  c.dataset.app = app.app;
  return c;
}

function render(snapshot) {
  for (const app of snapshot.apps) {
    const points = history.get(app.app) || [];
    points.push({ req: app.requests_per_s, thr: app.throttled_per_s });
    history.set(app.app, points.slice(-HISTORY));
  }
  $('#apps').replaceChildren(...snapshot.apps.map(card));
  $('#top-throttled').replaceChildren(...snapshot.top_throttled.map((t) => {
    const li = el('li', { textContent: t.app + ' — ' + t.throttled_per_s.toFixed(1) + '/s, '
      + t.throttled_total + ' total' });
    li.dataset.app = t.app;
    return li;
  }));
  if (!snapshot.top_throttled.length) {
    $('#top-throttled').replaceChildren(el('li', { className: 'muted', textContent: 'none' }));
  }
  $('#anomalies').replaceChildren(...(snapshot.anomalies.length ? snapshot.anomalies.map((a) =>
    el('li', { className: a.new ? 'alert' : '', textContent: a.app + ': ' + a.response + ' × ' + a.count }))
    : [el('li', { className: 'muted', textContent: 'none' })]));
  const audit = snapshot.audit;
  $('#audit-lag').textContent = audit.lag_ms;
  $('#audit-queued').textContent = audit.queued;
  $('#audit-spill').textContent = audit.spill_backlog;
  $('#audit-health').textContent = audit.sink_healthy ? 'sink healthy' : 'SINK DOWN: events go to the spill file';
  $('#audit-health').className = audit.sink_healthy ? 'muted' : 'alert';
  $('#updated').textContent = 'updated ' + new Date(snapshot.at).toLocaleTimeString();
}

function connection(text, live) {
  $('#connection').textContent = text;
  $('#connection').className = live ? 'live' : 'down';
}

async function connect() {
  if (!token()) {
    $('#login-needed').hidden = false;
    connection('not logged in', false);
    return;
  }
  try {
    const { body } = await api('/admin/ops/tickets', { method: 'POST' });
    source = new EventSource('/admin/ops/stream?ticket=' + encodeURIComponent(body.ticket));
    source.addEventListener('open', () => connection('live', true));
    source.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
    source.addEventListener('end', (e) => {
      // the server cut the stream: the admin token was revoked or its app paused; retrying cannot help
      source.close();
      const reason = JSON.parse(e.data).reason;
      connection('ended: ' + (reason === 'app_paused' ? 'the admin app was paused' : 'the admin token was revoked')
        + ' — log in again', false);
    });
    source.addEventListener('error', () => {
      // a ticket opens one stream only: never let EventSource retry with it, buy a new one
      source.close();
      connection('reconnecting…', false);
      setTimeout(connect, 2000);
    });
  } catch (e) {
    connection('disconnected: ' + e.message, false);
    if (e.status !== 401 && e.status !== 403) {
      setTimeout(connect, 5000);
    }
  }
}

connect();
