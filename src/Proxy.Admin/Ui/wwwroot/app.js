// Admin UI for the gateway: plain JavaScript, no framework, no build step. It calls the same management API as any
// client (LiteLLM's /key/*, /team/*, /user/*, /customer/*, /budget/*, /model/*, /spend/*, /global/*) with the HttpOnly
// session cookie plus the x-litellm-ui header the server requires of cookie-authenticated calls (CSRF protection). It
// never sees the master key. This file holds the shared helpers, keys, models, usage, logs and navigation; forms.js,
// charts.js and tenants.js (loaded after it) add the form dialog, the charts and the tenant pages.
'use strict';

const UI_HEADER = { 'x-litellm-ui': '1' };
const state = { session: null, keys: [], models: [], modelInfoAvailable: true };

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { ...UI_HEADER };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.status === 401 && data && /session/i.test(data.error?.message || '')) {
    location.assign('/ui/login');
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error && data.error.message) || text || response.statusText);
  }
  return data;
}

// ---- small DOM helpers (textContent only: nothing from the API is ever parsed as HTML) ----
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function usd(value) {
  const n = Number(value || 0);
  if (n === 0) return '$0';
  if (Math.abs(n) < 0.01) return '$' + n.toPrecision(3);
  return '$' + n.toFixed(n >= 1000 ? 0 : 2);
}

function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return isNaN(date) ? String(iso) : date.toLocaleString();
}

function num(value) { return value === null || value === undefined ? '' : Number(value).toLocaleString(); }

function isSet(value) { return value !== null && value !== undefined; }

/** A budget and its reset period ("$10.00 / 30d"), or a dash when there is none. */
function budgetText(maxBudget, duration) { return isSet(maxBudget) ? usd(maxBudget) + (duration ? ` / ${duration}` : '') : '—'; }

function limitsText(holder) { return `${holder.rpm_limit ?? '—'} / ${holder.tpm_limit ?? '—'}`; }

function modelsText(models) { return models && models.length ? models.join(', ') : 'all models'; }

function statusBadge(blocked) {
  return blocked ? el('span', { class: 'badge blocked', text: 'Blocked' }) : el('span', { class: 'badge ok', text: 'Active' });
}

/** A row's small action button; its accessible name says what it acts on ("Block QA Prod Bot"). */
function actionButton(action, label, name, handler, extra) {
  return el('button', { type: 'button', class: 'small' + (extra ? ' ' + extra : ''), 'data-action': action, 'aria-label': `${label} ${name}`, text: label, onclick: handler });
}

let statusTimer = 0;
function say(message, isError) {
  const box = $('status');
  box.textContent = message;
  box.classList.toggle('error', !!isError);
  box.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 4000);
}

function fail(error) { say(error instanceof ApiError ? `Error ${error.status}: ${error.message}` : String(error), true); }

function confirmAction(text, label) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = label || 'Confirm';
  return new Promise((resolve) => {
    const done = (answer) => { cleanup(); dialog.close(); resolve(answer); };
    const ok = () => done(true);
    const cancel = () => done(false);
    const onCancel = (event) => { event.preventDefault(); done(false); };
    function cleanup() {
      $('confirm-ok').removeEventListener('click', ok);
      $('confirm-cancel').removeEventListener('click', cancel);
      dialog.removeEventListener('cancel', onCancel);
    }
    $('confirm-ok').addEventListener('click', ok);
    $('confirm-cancel').addEventListener('click', cancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

function showSecret(key) {
  $('new-key').textContent = key;
  $('copy-status').textContent = '';
  $('secret-dialog').showModal();
  $('copy-key').focus();
}

// ---- Virtual Keys ----
async function loadKeys() {
  const data = await api('GET', '/key/list?return_full_object=true&size=1000');
  state.keys = data.keys || [];
  renderKeys();
}

function renderKeys() {
  const body = $('keys-table').querySelector('tbody');
  body.replaceChildren(...state.keys.map(keyRow));
  $('keys-empty').hidden = state.keys.length > 0;
}

function keyRow(key) {
  const name = key.key_alias || key.key_name || key.token.slice(0, 12);
  const expired = key.expires && new Date(key.expires) < new Date();
  const status = !key.blocked && expired ? el('span', { class: 'badge warn', text: 'Expired' }) : statusBadge(key.blocked);
  const button = (action, label, handler, extra) => actionButton(action, label, name, handler, extra);
  return el('tr', { 'data-token': key.token, 'data-alias': key.key_alias || '' },
    el('td', { text: key.key_alias || '—' }),
    el('td', {}, el('code', { text: key.key_name || '' })),
    el('td', { class: 'models', text: modelsText(key.models) }),
    el('td', { class: 'num', 'data-spend': key.spend, text: usd(key.spend) }),
    el('td', { class: 'num', text: budgetText(key.max_budget, key.budget_duration) }),
    el('td', { class: 'num', text: limitsText(key) }),
    el('td', { 'data-blocked': key.blocked ? 'true' : 'false' }, status),
    el('td', { text: key.expires ? when(key.expires) : 'never' }),
    el('td', { class: 'row-actions' },
      button('edit', 'Edit', () => openKeyDialog(key)),
      key.blocked ? button('unblock', 'Unblock', () => setBlocked(key, false)) : button('block', 'Block', () => setBlocked(key, true)),
      button('regenerate', 'Regenerate', () => regenerate(key)),
      button('delete', 'Delete', () => removeKey(key), 'danger')));
}

/** teamId: a new key for that team (from the team's page). */
function openKeyDialog(key, teamId) {
  const editing = !!key;
  $('key-team').value = !editing && teamId ? teamId : '';
  $('key-dialog-title').textContent = editing ? `Edit key ${key.key_alias || key.key_name}` : teamId ? 'Create key for this team' : 'Create key';
  $('key-submit').textContent = editing ? 'Save changes' : 'Create key';
  $('key-token').value = editing ? key.token : '';
  $('key-alias').value = editing ? key.key_alias || '' : '';
  $('key-models').value = editing ? (key.models || []).join(', ') : '';
  $('key-max-budget').value = editing && key.max_budget !== null && key.max_budget !== undefined ? key.max_budget : '';
  $('key-budget-duration').value = editing ? key.budget_duration || '' : '';
  $('key-rpm').value = editing && key.rpm_limit !== null && key.rpm_limit !== undefined ? key.rpm_limit : '';
  $('key-tpm').value = editing && key.tpm_limit !== null && key.tpm_limit !== undefined ? key.tpm_limit : '';
  $('key-parallel').value = editing && key.max_parallel_requests !== null && key.max_parallel_requests !== undefined ? key.max_parallel_requests : '';
  $('key-duration').value = '';
  $('key-form-error').hidden = true;
  $('key-dialog').showModal();
  $('key-alias').focus();
}

function numberField(id, editing, integer) {
  const text = $(id).value.trim();
  if (text === '') return editing ? null : undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${$(id).labels[0].textContent} must be a ${integer ? 'whole ' : ''}number ≥ 0.`);
  }
  return value;
}

function keyRequestFromForm() {
  const editing = $('key-token').value !== '';
  const body = {};
  const alias = $('key-alias').value.trim();
  if (alias || editing) body.key_alias = alias || null;
  const models = $('key-models').value.split(',').map((m) => m.trim()).filter(Boolean);
  if (models.length || editing) body.models = models;
  const set = (name, value) => { if (value !== undefined) body[name] = value; };
  set('max_budget', numberField('key-max-budget', editing, false));
  set('rpm_limit', numberField('key-rpm', editing, true));
  set('tpm_limit', numberField('key-tpm', editing, true));
  set('max_parallel_requests', numberField('key-parallel', editing, true));
  const budgetDuration = $('key-budget-duration').value.trim();
  if (budgetDuration || editing) body.budget_duration = budgetDuration || null;
  const duration = $('key-duration').value.trim();
  if (duration) body.duration = duration;
  if (!editing && $('key-team').value) body.team_id = $('key-team').value;
  return { editing, body };
}

async function submitKey(event) {
  event.preventDefault();
  const error = $('key-form-error');
  error.hidden = true;
  let request;
  try { request = keyRequestFromForm(); } catch (e) { error.textContent = e.message; error.hidden = false; return; }
  try {
    if (request.editing) {
      await api('POST', '/key/update', { key: $('key-token').value, ...request.body });
      $('key-dialog').close();
      say('Key updated.');
    } else {
      const created = await api('POST', '/key/generate', request.body);
      $('key-dialog').close();
      showSecret(created.key);
    }
    await reloadPage();
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.message : String(e);
    error.hidden = false;
  }
}

async function setBlocked(key, blocked) {
  try {
    await api('POST', blocked ? '/key/block' : '/key/unblock', { key: key.token });
    say(blocked ? `Key ${key.key_alias || key.key_name} blocked: it is refused from now on.` : 'Key unblocked.');
    await loadKeys();
  } catch (e) { fail(e); }
}

async function regenerate(key) {
  const name = key.key_alias || key.key_name;
  if (!await confirmAction(`Regenerate ${name}? The current key stops working at once; its settings and spend move to the new key.`, 'Regenerate')) return;
  try {
    const created = await api('POST', '/key/regenerate', { key: key.token });
    await loadKeys();
    showSecret(created.key);
  } catch (e) { fail(e); }
}

async function removeKey(key) {
  const name = key.key_alias || key.key_name;
  if (!await confirmAction(`Delete ${name}? Requests with this key will be refused at once. This cannot be undone.`, 'Delete key')) return;
  try {
    await api('POST', '/key/delete', { keys: [key.token] });
    say(`Key ${name} deleted.`);
    await loadKeys();
  } catch (e) { fail(e); }
}

async function copyKey() {
  const key = $('new-key').textContent;
  try {
    await navigator.clipboard.writeText(key);
    $('copy-status').textContent = 'Copied to the clipboard.';
  } catch {
    const range = document.createRange();
    range.selectNodeContents($('new-key'));
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    $('copy-status').textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
  }
}

// ---- Models ----
async function loadModels() {
  try {
    const data = await api('GET', '/model/info');
    state.models = (data && data.data) || [];
    state.modelInfoAvailable = true;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    state.models = [];
    state.modelInfoAvailable = false;
  }
  renderModels();
}

function renderModels() {
  const storeInDb = !!(state.session && state.session.store_model_in_db);
  $('add-model').hidden = !storeInDb || !state.modelInfoAvailable;
  $('models-note').textContent = !state.modelInfoAvailable
    ? 'This gateway build has no /model/info endpoint.'
    : storeInDb ? 'Models from the config file, plus models added here (stored in the database, applied without a restart).'
      : 'Models from the config file. Set STORE_MODEL_IN_DB=True to add and delete models here.';
  const names = new Set();
  const rows = state.models.map((model) => {
    const params = model.litellm_params || {};
    const info = model.model_info || {};
    names.add(model.model_name);
    const inCost = params.input_cost_per_token ?? info.input_cost_per_token;
    const outCost = params.output_cost_per_token ?? info.output_cost_per_token;
    const fromDb = !!info.db_model;
    return el('tr', { 'data-model-id': info.id || '' },
      el('td', { text: model.model_name }),
      el('td', {}, el('code', { text: params.model || '' })),
      el('td', { text: params.api_base || '' }),
      el('td', { class: 'num', text: inCost === undefined && outCost === undefined ? '—' : `${inCost ?? '—'} / ${outCost ?? '—'}` }),
      el('td', {}, el('span', { class: 'badge neutral', text: fromDb ? 'database' : 'config file' })),
      el('td', { class: 'row-actions' }, fromDb && storeInDb
        ? el('button', { type: 'button', class: 'small danger', 'data-action': 'delete-model', 'aria-label': `Delete model ${model.model_name}`, text: 'Delete', onclick: () => removeModel(model) })
        : null));
  });
  $('models-table').querySelector('tbody').replaceChildren(...rows);
  $('model-names').replaceChildren(...[...names].map((name) => el('option', { value: name })));
}

async function submitModel(event) {
  event.preventDefault();
  const error = $('model-form-error');
  error.hidden = true;
  const params = { model: $('model-model').value.trim() };
  const apiBase = $('model-api-base').value.trim();
  if (apiBase) params.api_base = apiBase;
  const apiKey = $('model-api-key').value;
  if (apiKey) params.api_key = apiKey;
  for (const [id, name] of [['model-input-cost', 'input_cost_per_token'], ['model-output-cost', 'output_cost_per_token']]) {
    const text = $(id).value.trim();
    if (text) params[name] = Number(text);
  }
  try {
    await api('POST', '/model/new', { model_name: $('model-name').value.trim(), litellm_params: params, model_info: {} });
    $('model-dialog').close();
    say('Model added.');
    await loadModels();
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.message : String(e);
    error.hidden = false;
  }
}

async function removeModel(model) {
  if (!await confirmAction(`Delete model ${model.model_name} (${model.litellm_params?.model || ''})? Requests stop going to it.`, 'Delete model')) return;
  try {
    await api('POST', '/model/delete', { id: model.model_info.id });
    say('Model deleted.');
    await loadModels();
  } catch (e) { fail(e); }
}

// ---- Usage and logs (both from /spend/logs) ----
function keyLabel(row) {
  const alias = row.metadata && row.metadata.user_api_key_alias;
  if (alias) return alias;
  const known = state.keys.find((k) => k.token === row.api_key);
  if (known) return known.key_alias || known.key_name;
  return row.api_key ? row.api_key.slice(0, 10) + '…' : 'master key';
}

function aggregate(rows, labelOf) {
  const groups = new Map();
  for (const row of rows) {
    const label = labelOf(row);
    const group = groups.get(label) || { label, requests: 0, tokens: 0, spend: 0 };
    group.requests += 1;
    group.tokens += Number(row.total_tokens || 0);
    group.spend += Number(row.spend || 0);
    groups.set(label, group);
  }
  return [...groups.values()].sort((a, b) => b.spend - a.spend || b.requests - a.requests);
}

function usageRows(groups, attribute) {
  return groups.map((g) => el('tr', { [attribute]: g.label },
    el('td', { text: g.label }),
    el('td', { class: 'num', text: num(g.requests) }),
    el('td', { class: 'num', text: num(g.tokens) }),
    el('td', { class: 'num', 'data-spend': g.spend, text: usd(g.spend) })));
}

function keySeriesLabel(hash, part) {
  const alias = part.metadata && part.metadata.key_alias;
  if (alias) return alias;
  if (!hash) return 'master key';
  const known = state.keys.find((k) => k.token === hash);
  return known ? known.key_alias || known.key_name : hash.slice(0, 10) + '…';
}

async function loadUsageCharts() {
  $('page-usage').dataset.charts = '';
  const days = utcDays(Number($('usage-days').value) || 30);
  const metric = $('usage-metric').value === 'api_requests' ? 'api_requests' : 'spend';
  const range = `start_date=${days[0]}&end_date=${days[days.length - 1]}`;
  const [teams, all] = await Promise.all([api('GET', '/team/daily/activity?' + range), api('GET', '/user/daily/activity?' + range)]);
  renderChart($('chart-teams'), { days, metric, title: 'Per day by team',
    series: activitySeries(teams, 'entities', metric, (id, part) => (part.metadata && part.metadata.team_alias) || id) });
  renderChart($('chart-keys'), { days, metric, title: 'Per day by key', series: activitySeries(all, 'api_keys', metric, keySeriesLabel) });
  renderChart($('chart-models'), { days, metric, title: 'Per day by model group',
    series: activitySeries(all, 'model_groups', metric, (name) => name || 'unknown') });
  // Tells a waiting test (or anyone) which figures are drawn.
  $('page-usage').dataset.charts = `${metric}:${days.length}`;
}

async function loadUsage() {
  const [global, logs] = await Promise.all([api('GET', '/global/spend'), api('GET', '/spend/logs'), loadKeysQuietly()]);
  await loadUsageCharts();
  const rows = Array.isArray(logs) ? logs : [];
  $('usage-total').textContent = usd(global && global.spend);
  $('usage-total').dataset.spend = String((global && global.spend) || 0);
  $('usage-requests').textContent = num(rows.length);
  $('usage-tokens').textContent = num(rows.reduce((sum, r) => sum + Number(r.total_tokens || 0), 0));
  $('usage-keys').querySelector('tbody').replaceChildren(...usageRows(aggregate(rows, keyLabel), 'data-key'));
  $('usage-models').querySelector('tbody').replaceChildren(...usageRows(aggregate(rows, (r) => r.model_group || r.model || 'unknown'), 'data-model'));
}

async function loadKeysQuietly() {
  try { await loadKeys(); } catch { /* labels fall back to hashes */ }
}

async function loadLogs() {
  const [logs] = await Promise.all([api('GET', '/spend/logs'), state.keys.length ? null : loadKeysQuietly()]);
  const rows = (Array.isArray(logs) ? logs : []).slice().sort((a, b) => String(b.startTime).localeCompare(String(a.startTime))).slice(0, 200);
  $('logs-table').querySelector('tbody').replaceChildren(...rows.map((row) => {
    const latency = row.metadata && row.metadata.latency_ms;
    const hit = row.cache_hit === true || row.cache_hit === 'True';
    return el('tr', { 'data-request-id': row.request_id },
      el('td', { text: when(row.startTime) }),
      el('td', {}, el('code', { text: row.request_id })),
      el('td', { text: keyLabel(row) }),
      el('td', { text: row.model_group || row.model || '' }),
      el('td', { class: 'num', text: `${num(row.prompt_tokens)} / ${num(row.completion_tokens)}` }),
      el('td', { class: 'num', 'data-spend': row.spend, text: usd(row.spend) }),
      el('td', { class: 'num', text: latency === undefined ? '' : `${Math.round(latency)} ms` }),
      el('td', {}, el('span', { class: 'badge ' + (row.status === 'success' ? 'ok' : 'blocked'), text: row.status || '' })),
      el('td', { 'data-cache-hit': hit ? 'true' : 'false' }, el('span', { class: 'badge ' + (hit ? 'ok' : 'neutral'), text: hit ? 'hit' : 'miss' })));
  }));
  $('logs-empty').hidden = rows.length > 0;
}

// ---- navigation ----
// A page is "#name" or "#name/argument" (a team's page is #team/<id>); nav marks the page's section ("team" → Teams).
const pages = { keys: { load: loadKeys }, models: { load: loadModels }, usage: { load: loadUsage }, logs: { load: loadLogs } };
const starters = [];

function registerPage(name, load, nav) { pages[name] = { load, nav: nav || name }; }

/** Runs once the session is known, before the first page is shown (the other files wire their buttons here). */
function onStart(fn) { starters.push(fn); }

let current = { page: 'keys', argument: '' };

async function show(hash) {
  const slash = hash.indexOf('/');
  let page = slash < 0 ? hash : hash.slice(0, slash);
  let argument = slash < 0 ? '' : decodeURIComponent(hash.slice(slash + 1));
  if (!pages[page]) { page = 'keys'; argument = ''; }
  current = { page, argument };
  const section = pages[page].nav || page;
  for (const name of Object.keys(pages)) {
    $('page-' + name).hidden = name !== page;
    const link = document.querySelector(`nav a[data-page="${name}"]`);
    if (!link) continue;
    if (name === section) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  document.body.dataset.page = page;
  document.body.dataset.loaded = '';
  try {
    await pages[page].load(argument);
    document.body.dataset.loaded = page;
  } catch (e) {
    document.body.dataset.loaded = 'error';
    fail(e);
  }
}

/** Shows the current page again with fresh data (after a change made on it). */
function reloadPage() {
  const hash = current.argument ? `${current.page}/${encodeURIComponent(current.argument)}` : current.page;
  return show(hash);
}

async function start() {
  const response = await fetch('/ui/session', { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) { location.assign('/ui/login'); return; }
  state.session = await response.json();
  $('whoami').textContent = state.session.username;

  $('create-key').addEventListener('click', () => openKeyDialog(null));
  $('refresh-keys').addEventListener('click', () => show('keys'));
  $('refresh-models').addEventListener('click', () => show('models'));
  $('refresh-usage').addEventListener('click', () => show('usage'));
  for (const id of ['usage-days', 'usage-metric']) {
    $(id).addEventListener('change', () => loadUsageCharts().catch(fail));
  }
  $('refresh-logs').addEventListener('click', () => show('logs'));
  $('key-form').addEventListener('submit', submitKey);
  $('key-cancel').addEventListener('click', () => $('key-dialog').close());
  $('copy-key').addEventListener('click', copyKey);
  $('secret-close').addEventListener('click', () => {
    // Forget the key once the dialog closes: it is not shown again.
    $('new-key').textContent = '';
    $('secret-dialog').close();
  });
  $('secret-dialog').addEventListener('close', () => { $('new-key').textContent = ''; });
  $('add-model').addEventListener('click', () => {
    $('model-form').reset();
    $('model-form-error').hidden = true;
    $('model-dialog').showModal();
    $('model-name').focus();
  });
  $('model-form').addEventListener('submit', submitModel);
  $('model-cancel').addEventListener('click', () => $('model-dialog').close());
  $('logout').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', headers: UI_HEADER, credentials: 'same-origin' });
    location.assign('/ui/login');
  });
  for (const starter of starters) starter();
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  await show(location.hash.slice(1) || 'keys');
}

document.addEventListener('DOMContentLoaded', start);
