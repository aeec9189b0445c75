// The admin console: browse and edit apps, datasets, grants and routes; versions with diffs and rollback; change
// requests; pause/resume. Plain ES module, no build step; every request goes through api.js.
import { api, claims, login, setToken, token } from './api.js';

const $ = (sel) => document.querySelector(sel);
const views = ['login', 'entities', 'versions', 'change-requests'];
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
    v === 'versions' ? openVersions() : v === 'change-requests' ? openChangeRequests() : openKind(v);
  });
}
$('#new-entity').addEventListener('click', () => {
  state.id = null;
  $('#editor').value = '{\n}';
  $('#app-actions').hidden = true;
});
$('#save').addEventListener('click', save);
$('#delete').addEventListener('click', remove);
$('#pause-app').addEventListener('click', () => lifecycle('pause'));
$('#resume-app').addEventListener('click', () => lifecycle('resume'));
$('#rollback').addEventListener('click', rollback);
start();
