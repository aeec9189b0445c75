// The admin console: browse and edit apps, datasets, grants, routes and policy blocks; the whole config as YAML
// (export, import, validate, simulate against recent traffic); versions with diffs and rollback; change requests;
// pause/resume; the audit trail. Plain ES module, no build step; every request goes through api.js.
import { api, claims, login, setToken, token } from './api.js';

const $ = (sel) => document.querySelector(sel);
const views = ['login', 'entities', 'config', 'versions', 'change-requests', 'audit'];
const state = { kind: null, id: null, etag: null, version: null };

function show(view) {
  for (const v of views) {
    $('#' + v + '-view').hidden = v !== view;
  }
}

function status(message, isError = false) {
  const el = $('#status');
  el.textContent = message;
  el.className = isError ? 'error' : 'ok';
}

function fail(e) {
  status((e.problem && e.problem.code ? e.problem.code + ': ' : '') + e.message, true);
  if (e.status === 401) {
    setToken(null);
    start();
  }
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) {
    node.append(c);
  }
  return node;
}

// ---- entities -------------------------------------------------------------------------------------------------

function entityId(kind, item) {
  return kind === 'datasets' ? item.name : item.id;
}

async function openKind(kind, quiet = false) {
  state.kind = kind;
  state.id = null;
  show('entities');
  $('#entities-title').textContent = kind[0].toUpperCase() + kind.slice(1);
  $('#app-actions').hidden = true;
  $('#editor').value = '';
  try {
    const { body, etag } = await api('/admin/' + kind);
    state.etag = etag;
    state.version = body.version;
    const list = $('#entity-list');
    list.replaceChildren(...body.items.map((item) => {
      const id = entityId(kind, item);
      const li = el('li', { textContent: id });
      li.dataset.id = id;
      if (item.status && item.status !== 'active') {
        li.append(el('span', { className: 'badge', textContent: item.status }));
      }
      li.addEventListener('click', () => openEntity(id));
      return li;
    }));
    if (!quiet) {
      status(body.items.length + ' ' + kind + ' in version ' + body.version);
    }
  } catch (e) {
    fail(e);
  }
}

async function openEntity(id) {
  try {
    const { body, etag } = await api('/admin/' + state.kind + '/' + encodeURIComponent(id));
    state.id = id;
    state.etag = etag;
    for (const li of document.querySelectorAll('#entity-list li')) {
      li.classList.toggle('selected', li.dataset.id === id);
    }
    $('#editor').value = JSON.stringify(body, null, 2);
    $('#app-actions').hidden = state.kind !== 'apps';
  } catch (e) {
    fail(e);
  }
}

function reason() {
  const r = $('#reason').value.trim();
  if (!r) {
    throw new Error('a reason is required');
  }
  return r;
}

function reportChange(res) {
  if (res.status === 202) {
    status('waiting for a second admin: change request #' + res.body.change_request.id + ' ('
      + (res.body.four_eyes || []).join('; ') + ')');
  } else if (res.body.status === 'unchanged') {
    status('no change (version ' + res.body.version + ')');
  } else {
    status('saved as version ' + res.body.version);
  }
}

async function save() {
  try {
    const entity = JSON.parse($('#editor').value);
    const path = '/admin/' + state.kind + (state.id ? '/' + encodeURIComponent(state.id) : '');
    const res = await api(path, { method: state.id ? 'PUT' : 'POST', body: entity, reason: reason(),
      ifMatch: state.etag });
    const id = state.id || entityId(state.kind, entity);
    await openKind(state.kind, true);
    await openEntity(id);
    reportChange(res);
  } catch (e) {
    e instanceof SyntaxError ? status('not valid JSON: ' + e.message, true) : fail(e);
  }
}

async function remove() {
  if (!state.id || !confirm('Delete ' + state.id + '?')) {
    return;
  }
  try {
    reportChange(await api('/admin/' + state.kind + '/' + encodeURIComponent(state.id),
      { method: 'DELETE', reason: reason(), ifMatch: state.etag }));
    const message = $('#status').textContent;
    await openKind(state.kind);
    status(message);
  } catch (e) {
    fail(e);
  }
}

async function lifecycle(action) {
  try {
    await api('/admin/apps/' + encodeURIComponent(state.id) + '/' + action, { method: 'POST', reason: reason() });
    const id = state.id;
    await openKind('apps', true);
    await openEntity(id);
    status(id + ' ' + (action === 'pause' ? 'paused: its tokens are revoked' : 'resumed'));
  } catch (e) {
    fail(e);
  }
}

// ---- versions -------------------------------------------------------------------------------------------------

async function openVersions() {
  show('versions');
  $('#diff').textContent = '';
  $('#rollback').disabled = true;
  try {
    const { body } = await api('/admin/config/versions?limit=50');
    $('#versions tbody').replaceChildren(...body.versions.map((v) => {
      const tr = el('tr', {},
        el('td', { textContent: v.version }), el('td', { textContent: v.author }),
        el('td', { textContent: v.reason || '' }), el('td', { textContent: new Date(v.created_at).toLocaleString() }));
      tr.dataset.version = v.version;
      tr.addEventListener('click', () => openDiff(v.version));
      return tr;
    }));
  } catch (e) {
    fail(e);
  }
}

async function openDiff(version) {
  for (const tr of document.querySelectorAll('#versions tbody tr')) {
    tr.classList.toggle('selected', tr.dataset.version === String(version));
  }
  state.version = version;
  $('#rollback').disabled = false;
  try {
    const { body } = await api('/admin/config/versions/' + version + '/diff');
    $('#diff').textContent = 'from ' + body.from + ' to ' + body.to + '\n' + JSON.stringify(body, null, 2);
  } catch (e) {
    $('#diff').textContent = e.status === 404 ? 'the first version (nothing before it)' : e.message;
  }
}

async function rollback() {
  try {
    reportChange(await api('/admin/config/versions/' + state.version + '/rollback', { method: 'POST',
      reason: prompt('Reason for the rollback to version ' + state.version + '?') || '' }));
    const message = $('#status').textContent;
    await openVersions();
    status(message);
  } catch (e) {
    fail(e);
  }
}

// ---- change requests ------------------------------------------------------------------------------------------

async function openChangeRequests() {
  show('change-requests');
  try {
    const { body } = await api('/admin/change-requests?status=pending');
    $('#change-requests tbody').replaceChildren(...body.change_requests.map((cr) => {
      const decide = (action) => async () => {
        try {
          const why = prompt(action + ' change request #' + cr.id + ': reason?');
          if (!why) {
            return;
          }
          const res = await api('/admin/change-requests/' + cr.id + '/' + action, { method: 'POST', reason: why });
          await openChangeRequests();
          status('#' + cr.id + ' ' + res.body.status + (res.body.applied_version ? ' as version '
            + res.body.applied_version : ''));
        } catch (e) {
          fail(e);
        }
      };
      const approve = el('button', { textContent: 'Approve' });
      approve.addEventListener('click', decide('approve'));
      const reject = el('button', { textContent: 'Reject', className: 'danger' });
      reject.addEventListener('click', decide('reject'));
      const tr = el('tr', {}, el('td', { textContent: cr.id }), el('td', { textContent: cr.author }),
        el('td', { textContent: cr.reason }), el('td', {}, el('pre', { textContent:
          JSON.stringify(cr.diff && cr.diff.summary ? cr.diff.summary : cr.diff, null, 1) })),
        el('td', {}, approve, reject));
      tr.dataset.id = cr.id;
      return tr;
    }));
    status(body.change_requests.length + ' pending');
  } catch (e) {
    fail(e);
  }
}

// ---- whole config: export, import, validate, simulate ---------------------------------------------------------

/** What "New" starts from, per entity kind (CONFIG.md has every key). */
const TEMPLATES = {
  policies: { id: 'new-policy', description: 'what it guards and why', effect: 'deny',
    condition: "request.method == 'DELETE'", applies_to: { tiers: [0] } },
};

let exportUrl = null;

async function openConfig() {
  show('config');
  clearConfigOutput();
  try {
    const res = await api('/admin/config', { accept: 'application/yaml' });
    $('#config-yaml').value = res.body;
    const version = (res.etag || '').replace(/"/g, '');
    if (exportUrl) {
      URL.revokeObjectURL(exportUrl);
    }
    exportUrl = URL.createObjectURL(new Blob([res.body], { type: 'application/yaml' }));
    const link = $('#config-download');
    link.href = exportUrl;
    link.download = 'portcullis-v' + version + '.yaml';
    link.querySelector('span').textContent = version;
    link.hidden = false;
    state.configEtag = res.etag;
    status('config version ' + version);
  } catch (e) {
    fail(e);
  }
}

function loadFile(event) {
  const file = event.target.files[0];
  if (!file) {
    return;
  }
  file.text().then((text) => {
    $('#config-yaml').value = text;
    clearConfigOutput();
    status('loaded ' + file.name + ' (not yet validated)');
  });
}

function clearConfigOutput() {
  $('#config-errors').hidden = true;
  $('#config-errors').replaceChildren();
  $('#config-result').hidden = true;
  $('#simulate-report').hidden = true;
}

/** Puts the caret on line:col of the YAML, so a reported problem is one click away. */
function goTo(line, column) {
  const area = $('#config-yaml');
  const lines = area.value.split('\n');
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) {
    offset += lines[i].length + 1;
  }
  const lineText = lines[line - 1] || '';
  area.focus();
  area.setSelectionRange(offset + Math.max(0, column - 1), offset + lineText.length);
  const lineHeight = area.scrollHeight / Math.max(1, lines.length);
  area.scrollTop = Math.max(0, (line - 5) * lineHeight);
}

/** The compiler's messages from a 422 problem, each with its line:col (a button to jump there) and path. */
function showProblems(e) {
  const list = $('#config-errors');
  const violations = (e.problem && e.problem.violations) || [];
  if (!violations.length) {
    fail(e);
    return;
  }
  list.replaceChildren(...violations.map((v) => {
    const li = el('li');
    const [line, column] = (v.location || '0:0').split(':').map(Number);
    if (line > 0) { // 0:0: the compiler could not place it in the text; its path still says where
      const jump = el('button', { type: 'button', className: 'loc', textContent: 'line ' + v.location });
      jump.addEventListener('click', () => goTo(line, column));
      li.append(jump);
      li.dataset.location = v.location;
    }
    if (v.pointer) {
      li.append(el('code', { textContent: v.pointer }));
    }
    li.append(v.message || JSON.stringify(v));
    return li;
  }));
  list.hidden = false;
  list.scrollIntoView({ block: 'center' });
  status(e.problem.code + ': ' + e.message + ' — nothing was stored', true);
}

async function validateConfig() {
  clearConfigOutput();
  try {
    const { body } = await api('/admin/config/validate', { method: 'POST', text: $('#config-yaml').value });
    const result = $('#config-result');
    result.textContent = 'valid against version ' + body.base_version + '\n'
      + (body.four_eyes.length ? 'needs a second admin: ' + body.four_eyes.join('; ') + '\n' : '')
      + JSON.stringify(body.diff, null, 2);
    result.hidden = false;
    status('valid' + (body.diff && body.diff.summary ? ': ' + body.diff.summary : ''));
  } catch (e) {
    showProblems(e);
  }
}

async function importConfig() {
  clearConfigOutput();
  try {
    const res = await api('/admin/config', { method: 'PUT', text: $('#config-yaml').value,
      reason: configReason(), ifMatch: state.configEtag });
    reportChange(res);
    const message = $('#status').textContent;
    if (res.status !== 202) {
      await openConfig();
    }
    status(message);
  } catch (e) {
    e.status === 422 ? showProblems(e) : fail(e);
  }
}

function configReason() {
  const r = $('#config-reason').value.trim();
  if (!r) {
    throw new Error('a reason is required');
  }
  return r;
}

function joinCounts(counts) {
  return Object.entries(counts || {}).map(([k, n]) => k + ' ×' + n).join(', ');
}

async function simulateConfig() {
  clearConfigOutput();
  const n = $('#simulate-requests').value || '500';
  try {
    const { body } = await api('/admin/config/simulate?requests=' + encodeURIComponent(n), { method: 'POST',
      text: $('#config-yaml').value });
    const apps = Object.entries(body.apps);
    $('#simulate-summary').textContent = 'Replayed ' + body.replayed + ' audited requests'
      + (body.from ? ' (' + new Date(body.from).toLocaleString() + ' – ' + new Date(body.to).toLocaleString() + ')' : '')
      + ' against version ' + body.current_version + ': ' + body.changed + ' decision(s) would change.';
    $('#simulate-apps tbody').replaceChildren(...apps.map(([app, r]) => {
      const changed = r.requests - r.unchanged;
      const cell = (value, bad) => el('td', { className: 'num' + (bad && value ? ' bad' : ''), textContent: value });
      const tr = el('tr', { className: changed ? 'changed' : '' },
        el('td', { textContent: app }), cell(r.requests), cell(changed, true), cell(r.allow_to_deny, true),
        cell(r.deny_to_allow, true), cell(r.deny_reason_changed), cell(r.row_filter_changed),
        el('td', { textContent: joinCounts(r.new_masks) }), el('td', { textContent: joinCounts(r.lifted_masks) }),
        el('td', { textContent: joinCounts(r.newly_hidden_columns) }),
        el('td', { textContent: joinCounts(r.newly_visible_columns) }));
      tr.dataset.app = app;
      tr.dataset.changed = changed;
      if (r.examples.length) {
        tr.title = r.examples.map((x) => x.timestamp + ' ' + x.action + ' ' + x.dataset + ' by ' + x.actor_id + ': '
          + describe(x.before) + ' → ' + describe(x.after)).join('\n');
      }
      return tr;
    }));
    $('#simulate-approximations').replaceChildren(...body.approximations.map((a) => el('li', { textContent:
      'approximation: ' + a })));
    $('#simulate-report').hidden = false;
    $('#simulate-report').scrollIntoView({ block: 'start' });
    status(body.changed + ' of ' + body.replayed + ' decisions would change; nothing was applied');
  } catch (e) {
    e.status === 422 ? showProblems(e) : fail(e);
  }
}

function describe(d) {
  return d.allowed ? 'allow' + (d.masks && d.masks.length ? ' masks ' + d.masks.join(',') : '') : 'deny ' + d.code;
}

// ---- audit trail ----------------------------------------------------------------------------------------------

const audit = { pages: 0, next: null, query: '' };
let csvUrl = null;

function auditQuery() {
  const q = new URLSearchParams();
  for (const [param, id] of [['app', 'audit-app'], ['actor', 'audit-actor'], ['dataset', 'audit-dataset'],
    ['outcome', 'audit-outcome']]) {
    const v = $('#' + id).value.trim();
    if (v) {
      q.set(param, v);
    }
  }
  for (const [param, id] of [['from', 'audit-from'], ['to', 'audit-to']]) {
    const v = $('#' + id).value;
    if (v) {
      q.set(param, new Date(v).toISOString()); // the input is local time; the API takes an instant
    }
  }
  q.set('limit', $('#audit-limit').value || '50');
  return q;
}

function openAudit() {
  show('audit');
  searchAudit(null);
}

async function searchAudit(cursor) {
  const q = cursor ? new URLSearchParams(audit.query) : auditQuery();
  if (cursor) {
    q.set('cursor', cursor);
  } else {
    audit.query = q.toString();
    audit.pages = 0;
  }
  $('#audit-detail').hidden = true;
  try {
    const { body } = await api('/admin/audit/events?' + q.toString());
    audit.pages = cursor ? audit.pages + 1 : 1;
    audit.next = body.next_cursor || null;
    $('#audit-events tbody').replaceChildren(...body.events.map((e) => {
      const tr = el('tr', {},
        el('td', { textContent: new Date(e.timestamp).toLocaleString() }), el('td', { textContent: e.event_type }),
        el('td', { className: 'app', textContent: e.app_id || '' }), el('td', { textContent: e.actor_id || '' }),
        el('td', { textContent: e.action || '' }),
        el('td', { textContent: [e.resource_type, e.resource_id].filter(Boolean).join(' ') }),
        el('td', { className: e.outcome || '', textContent: e.outcome || '' }),
        el('td', { className: 'num', textContent: e.status ?? '' }), el('td', { textContent: e.error_code || '' }),
        el('td', { className: 'num', textContent: e.rows ?? '' }),
        el('td', { className: 'num', textContent: e.latency_ms == null ? '' : Number(e.latency_ms).toFixed(1) }));
      tr.dataset.eventId = e.event_id;
      tr.addEventListener('click', () => {
        $('#audit-detail').textContent = JSON.stringify(e, null, 2);
        $('#audit-detail').hidden = false;
      });
      return tr;
    }));
    $('#audit-next').disabled = !audit.next;
    $('#audit-first').disabled = audit.pages <= 1;
    $('#audit-page').textContent = 'page ' + audit.pages + ' · ' + body.events.length + ' event(s)'
      + (audit.next ? '' : ' · end');
    status(body.events.length + ' audit event(s)');
  } catch (e) {
    fail(e);
  }
}

/**
 * The CSV export needs the bearer token, which a plain link cannot send: fetch it, then offer it as a blob link (the
 * export is itself recorded as an admin event).
 */
async function downloadAuditCsv() {
  const q = new URLSearchParams(audit.query || auditQuery().toString());
  q.set('format', 'csv');
  try {
    const { body } = await api('/admin/audit/events?' + q.toString(), { accept: 'text/csv' });
    if (csvUrl) {
      URL.revokeObjectURL(csvUrl);
    }
    csvUrl = URL.createObjectURL(new Blob([body], { type: 'text/csv' }));
    const link = $('#audit-csv-link');
    const rows = Math.max(0, body.split('\r\n').filter((l) => l).length - 1);
    link.href = csvUrl;
    link.textContent = 'save CSV (' + rows + ' event' + (rows === 1 ? '' : 's') + ')';
    link.dataset.rows = rows;
    link.hidden = false;
    link.click();
  } catch (e) {
    fail(e);
  }
}

// ---- wiring ---------------------------------------------------------------------------------------------------

async function start() {
  if (!token()) {
    $('#nav').hidden = true;
    show('login');
    return;
  }
  $('#nav').hidden = false;
  const c = claims();
  $('#who').textContent = (c.sub || '?') + (c.exp ? ' · until ' + new Date(c.exp * 1000).toLocaleTimeString() : '');
  await openKind('apps');
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const pasted = $('#access-token').value.trim();
    setToken(pasted || await login($('#client-id').value.trim(), $('#client-secret').value));
    $('#client-secret').value = '';
    $('#access-token').value = '';
    await api('/admin/lifecycle/reviews'); // proves the token is an admin token before showing anything
    status('logged in');
    await start();
  } catch (e) {
    setToken(null);
    status('login failed: ' + e.message, true);
  }
});
$('#logout').addEventListener('click', () => {
  setToken(null);
  start();
});
for (const b of document.querySelectorAll('#nav button[data-view]')) {
  b.addEventListener('click', () => {
    const v = b.dataset.view;
    const open = { 'versions': openVersions, 'change-requests': openChangeRequests, 'config': openConfig,
      'audit': openAudit }[v];
    open ? open() : openKind(v);
  });
}
$('#new-entity').addEventListener('click', () => {
  state.id = null;
  $('#editor').value = JSON.stringify(TEMPLATES[state.kind] || {}, null, 2);
  $('#app-actions').hidden = true;
});
$('#save').addEventListener('click', save);
$('#delete').addEventListener('click', remove);
$('#pause-app').addEventListener('click', () => lifecycle('pause'));
$('#resume-app').addEventListener('click', () => lifecycle('resume'));
$('#rollback').addEventListener('click', rollback);
$('#config-reload').addEventListener('click', () => openConfig());
$('#config-file').addEventListener('change', loadFile);
$('#config-validate').addEventListener('click', validateConfig);
$('#config-simulate').addEventListener('click', simulateConfig);
$('#config-import').addEventListener('click', importConfig);
$('#audit-form').addEventListener('submit', (event) => {
  event.preventDefault();
  searchAudit(null);
});
$('#audit-first').addEventListener('click', () => searchAudit(null));
$('#audit-next').addEventListener('click', () => searchAudit(audit.next));
$('#audit-csv').addEventListener('click', downloadAuditCsv);
start();
