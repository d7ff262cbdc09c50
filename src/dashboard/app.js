// The Concierge dashboard: one page over the management API (/api/v1). Every value from the
// server reaches the page as text (textContent), never as markup.
'use strict';

const state = { session: null, csrf: '', refresh: null, events: null, timer: null };
const PAGE = 50;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else if (value !== false && value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(text) {
  const status = document.getElementById('status');
  status.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { status.textContent = ''; }, 6000);
}

class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || 'request failed');
    this.status = problem.status;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({ status: response.status }));
  if (!response.ok) {
    if (response.status === 401 && state.session && path !== '/api/v1/session') showSignIn('Your session ended: sign in again.');
    throw new ApiError(data);
  }
  return data;
}

function may(permission) {
  const role = state.session && state.session.operator.role;
  const allowed = {
    owner: ['read', 'read the site', 'operate', 'onboard', 'policy', 'ownership', 'operators'],
    installer: ['read', 'read the site', 'operate', 'onboard', 'policy'],
    tenant: ['read', 'operate'],
    auditor: ['read', 'read the site'],
  };
  return (allowed[role] || []).includes(permission);
}

function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
  const heading = main.querySelector('h1');
  if (heading) document.title = heading.textContent + ' · Concierge';
}

// Live updates: the server pushes each committed change (Server-Sent Events, /api/v1/events);
// the page shown refreshes itself once a burst of them has passed.
function listen() {
  if (state.events) return;
  state.events = new EventSource('/api/v1/events');
  state.events.onmessage = () => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => { if (state.refresh) state.refresh().catch(() => {}); }, 250);
  };
}

function stopListening() {
  if (state.events) state.events.close();
  state.events = null;
}

function live(refresh) {
  state.refresh = refresh;
}

// Signing in ------------------------------------------------------------------------------

function showSignIn(message) {
  stopListening();
  state.refresh = null;
  state.session = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  const error = el('p', { id: 'signin-error', class: 'error', role: 'alert' }, message || '');
  const code = el('input', { id: 'code', name: 'code', autocomplete: 'one-time-code', required: true,
                              spellcheck: 'false', placeholder: 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX' });
  const form = el('form', { class: 'signin', onsubmit: async (event) => {
    event.preventDefault();
    try {
      const session = await api('POST', '/api/v1/session', { code: code.value.trim() });
      signedIn(session);
      location.hash = '#/devices';
      route();
    } catch (failure) {
      error.textContent = failure.message;
    }
  } },
  el('label', { for: 'code' }, 'One-time code'), code,
  el('p', { class: 'note' }, 'An owner gives you a code with `concierge operator add`. It works once.'),
  el('button', { type: 'submit' }, 'Sign in'), error);
  show(el('h1', {}, 'Sign in'), form);
  code.focus();
}

function signedIn(session) {
  state.session = session;
  state.csrf = session.csrf_token;
  const op = session.operator;
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('nav-operators').hidden = !may('operators');
  document.getElementById('nav-policy').hidden = !may('read the site');
  document.getElementById('who').textContent =
    op.name + ' (' + op.role + (op.tenant ? ' of ' + op.tenant : '') + ')';
  listen();
}

// The inventory -----------------------------------------------------------------------------

const DEVICE_COLUMNS = [
  ['name', 'Name'], ['maker', 'Maker'], ['owner', 'Owner'], ['zone', 'Zone'],
  ['mac', 'MAC'], ['addresses', 'Addresses'], ['mud_url', 'MUD URL'], ['quarantine', 'State'],
];

function cell(device, key) {
  if (key === 'quarantine') {
    return device.quarantine ? el('span', { class: 'badge bad' }, 'Quarantined') : '';
  }
  const value = device[key];
  return Array.isArray(value) ? value.join(' ') : (value || '');
}

async function showDevices(params) {
  const filters = { q: params.get('q') || '', maker: params.get('maker') || '', zone: params.get('zone') || '',
    quarantined: params.get('quarantined') || '' };
  let offset = Number(params.get('offset') || 0);
  const input = (name, label) => el('label', {}, label,
    el('input', { name, value: filters[name], type: name === 'q' ? 'search' : 'text' }));
  const form = el('form', { class: 'filters', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const query = new URLSearchParams();
    for (const [key, value] of data) if (value) query.set(key, value);
    location.hash = '#/devices?' + query.toString();
  } }, input('q', 'Search name, serial or MAC'), input('maker', 'Maker'), input('zone', 'Zone'),
  el('label', {}, 'State', el('select', { name: 'quarantined' },
    [['', 'Any'], ['true', 'Quarantined'], ['false', 'Not quarantined']].map(([value, text]) =>
      el('option', { value, selected: filters.quarantined === value }, text)))),
  el('button', { type: 'submit' }, 'Filter'),
  el('button', { type: 'button', class: 'secondary', id: 'export-csv', onclick: () => exportCsv(filters) }, 'Export CSV'));
  const summary = el('p', { id: 'device-summary', class: 'note' });
  const body = el('tbody', { id: 'device-rows' });
  const table = el('table', { 'aria-describedby': 'device-summary' },
    el('thead', {}, el('tr', {}, DEVICE_COLUMNS.map(([, title]) => el('th', { scope: 'col' }, title)))), body);
  const previous = el('button', { type: 'button', class: 'secondary', onclick: () => { offset = Math.max(0, offset - PAGE); refresh(); } }, 'Previous');
  const next = el('button', { type: 'button', class: 'secondary', onclick: () => { offset += PAGE; refresh(); } }, 'Next');
  show(el('h1', {}, 'Devices'), form, summary, table, el('div', { class: 'pager' }, previous, next));

  async function refresh() {
    const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    const page = await api('GET', '/api/v1/devices?' + query.toString());
    body.replaceChildren(...page.devices.map((device) => el('tr', {},
      el('td', {}, el('a', { href: '#/device/' + encodeURIComponent(device.name) }, device.name)),
      DEVICE_COLUMNS.slice(1).map(([key]) => el('td', { class: key === 'mud_url' || key === 'mac' ? 'mono' : '' }, cell(device, key))))));
    const last = Math.min(page.total, offset + page.devices.length);
    summary.textContent = page.total === 0 ? 'No devices match.' :
      'Devices ' + (offset + 1) + '–' + last + ' of ' + page.total + '.';
    previous.disabled = offset === 0;
    next.disabled = last >= page.total;
  }
  await refresh();
  live(refresh);  // devices appear as they enroll, without a reload
}

// csvField quotes what CSV needs quoted, and puts a ' before a value a spreadsheet would run as
// a formula (a device name is the maker's or a stranger's text).
function csvField(value) {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

async function exportCsv(filters) {
  const rows = [['name', 'serial', 'maker', 'owner', 'zone', 'mac', 'addresses', 'mud_url', 'quarantined_since']];
  for (let offset = 0; ; offset += 500) {
    const query = new URLSearchParams({ offset: String(offset), limit: '500' });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    const page = await api('GET', '/api/v1/devices?' + query.toString());
    for (const d of page.devices) rows.push([d.name, d.serial, d.maker, d.owner, d.zone, d.mac, d.addresses.join(' '), d.mud_url,
      d.quarantine ? d.quarantine.since : '']);
    if (offset + page.devices.length >= page.total || page.devices.length === 0) break;
  }
  const blob = new Blob([rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n'], { type: 'text/csv' });
  const link = el('a', { href: URL.createObjectURL(blob), download: 'concierge-devices.csv' });
  document.body.append(link);
  link.click();
  link.remove();
  say('Exported ' + (rows.length - 1) + ' devices.');
}

// One device ------------------------------------------------------------------------------------

async function showDevice(name) {
  const device = await api('GET', '/api/v1/devices/' + encodeURIComponent(name));
  const fields = [
    ['Serial', device.serial], ['Maker', device.maker], ['Owner', device.owner], ['Zone', device.zone],
    ['MAC', device.mac], ['Addresses', device.addresses.join(' ')],
    ['MUD URL', device.mud_url && device.mud_url + ' (' + device.mud_url_source + ')'],
    ['Software', Object.entries(device.software).map(([p, v]) => p + ' ' + v).join(', ')],
    ['Tenants', device.tenants.join(', ')],
  ];
  const onboarding = device.onboarding;
  if (onboarding) {
    fields.push(['Onboarding', onboarding.departure || onboarding.state],
      ['LDevID expires', onboarding.ldevid_not_after], ['First seen', onboarding.first_seen]);
  }
  const trail = await api('GET', '/api/v1/audit?subject=' + encodeURIComponent('device:' + name) + '&limit=200');
  show(el('h1', {}, 'Device ' + device.name),
    el('dl', { class: 'record' }, fields.map(([label, value]) => [el('dt', {}, label), el('dd', {}, value || '—')])),
    quarantinePanel(device),
    el('h2', {}, 'Audit trail'), auditTable(trail.events));
}

// quarantinePanel cuts the device off (or lets it back) through the firewall, at once.
function quarantinePanel(device) {
  const canOperate = may('operate');
  const path = '/api/v1/devices/' + encodeURIComponent(device.name) + '/quarantine';
  const act = async (method, body) => {
    try {
      const answer = await api(method, path, body);
      const firewall = answer.policy.firewall === 'dry-run' ? ' (firewall dry run: rules rendered, not loaded)' : '';
      say('Device ' + device.name + (method === 'POST' ? ' quarantined' : ' released') + firewall + '.');
      await showDevice(device.name);
    } catch (failure) {
      say('Refused: ' + failure.message);
    }
  };
  const note = canOperate ? null :
    el('p', { class: 'note' }, 'Your role (' + state.session.operator.role + ') cannot quarantine devices.');
  if (device.quarantine) {
    const q = device.quarantine;
    return el('section', { id: 'quarantine', 'aria-labelledby': 'quarantine-heading' },
      el('h2', { id: 'quarantine-heading' }, 'Quarantine'),
      el('p', {}, el('span', { class: 'badge bad' }, 'Quarantined'), ' since ' + q.since + ' by ' + q.by + ': ' + q.reason),
      el('button', { type: 'button', disabled: !canOperate, onclick: () => act('DELETE') }, 'Release'), note);
  }
  const reason = el('input', { id: 'quarantine-reason', name: 'reason', maxlength: '200', required: true,
    disabled: !canOperate });
  return el('section', { id: 'quarantine', 'aria-labelledby': 'quarantine-heading' },
    el('h2', { id: 'quarantine-heading' }, 'Quarantine'),
    el('form', { class: 'actions', onsubmit: (event) => { event.preventDefault(); act('POST', { reason: reason.value }); } },
      el('label', { for: 'quarantine-reason' }, 'Reason', reason),
      el('button', { type: 'submit', class: 'danger', disabled: !canOperate }, 'Quarantine')),
    el('p', { class: 'note' }, 'The firewall drops every packet to or from the device at once, except DHCP and neighbour discovery.'),
    note);
}

// Policy --------------------------------------------------------------------------------------------

async function showPolicy() {
  const policy = await api('GET', '/api/v1/policy');
  const kind = policy.firewall === 'dry-run' ?
    el('span', { class: 'badge bad', id: 'firewall-kind' }, 'Dry run: rules rendered, not loaded into the kernel') :
    el('span', { class: 'badge ok', id: 'firewall-kind' }, 'Enforced by nftables');
  const applied = policy.in_force;
  show(el('h1', {}, 'Policy'), el('p', {}, kind),
    el('h2', {}, 'Quarantined devices'),
    policy.quarantined.length === 0 ? el('p', { class: 'note' }, 'None.') :
      el('ul', { id: 'quarantined' }, policy.quarantined.map((name) =>
        el('li', {}, el('a', { href: '#/device/' + encodeURIComponent(name) }, name)))),
    el('h2', {}, 'Ruleset in force'),
    applied ? el('p', { class: 'note' }, 'Applied ' + applied.applied + ', sha256 ' + applied.sha256.slice(0, 16) + '.') :
      el('p', { class: 'note' }, 'No policy applied yet.'),
    applied ? el('pre', { id: 'ruleset', class: 'mono', tabindex: '0', 'aria-label': 'nftables ruleset' }, applied.ruleset) : null);
  live(showPolicy);
}

// Approvals ---------------------------------------------------------------------------------------

async function showApprovals() {
  const canApprove = may('onboard');
  const body = el('tbody', { id: 'approval-rows' });
  const all = el('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every device', disabled: !canApprove,
    onchange: () => body.querySelectorAll('input[type=checkbox]').forEach((box) => { box.checked = all.checked; }) });
  const approve = el('button', { type: 'button', id: 'approve-selected', disabled: !canApprove, onclick: async () => {
    const ids = [...body.querySelectorAll('input:checked')].map((box) => Number(box.value));
    if (ids.length === 0) { say('Select the devices to approve first.'); return; }
    try {
      const summary = await api('POST', '/api/v1/approvals', { ids });
      say(summary.approved.length + ' approved, ' + summary.refused.length + ' refused' +
        summary.refused.map((r) => ' (' + r.id + ': ' + r.detail + ')').join(''));
      await refresh();
    } catch (failure) {
      say('Refused: ' + failure.message);
    }
  } }, 'Approve selected');
  const note = canApprove ? null :
    el('p', { class: 'note', id: 'approve-note' }, 'Your role (' + state.session.operator.role + ') cannot approve devices.');
  show(el('h1', {}, 'Approvals'), el('div', { class: 'actions' }, approve), note,
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, all),
      ['Id', 'Serial', 'Maker', 'Asked from', 'First seen'].map((t) => el('th', { scope: 'col' }, t)))), body));

  async function refresh() {
    const queue = await api('GET', '/api/v1/approvals');
    const checked = new Set([...body.querySelectorAll('input:checked')].map((box) => box.value));
    body.replaceChildren(...queue.pending.map((d) => el('tr', {},
      el('td', {}, el('input', { type: 'checkbox', value: String(d.id), 'aria-label': 'Select ' + d.serial,
        disabled: !canApprove, checked: checked.has(String(d.id)) })),
      el('td', {}, String(d.id)), el('td', {}, d.serial), el('td', {}, d.maker),
      el('td', {}, d.address), el('td', {}, d.first_seen))));
    if (queue.pending.length === 0) body.append(el('tr', {}, el('td', { colspan: '6', class: 'note' }, 'Nothing waits for approval.')));
  }
  await refresh();
  live(refresh);
}

// Certificates --------------------------------------------------------------------------------

async function showCertificates(params) {
  const within = params.get('within') || '';
  const query = new URLSearchParams({ limit: '200' });
  if (within) query.set('within_days', within);
  const page = await api('GET', '/api/v1/certificates?' + query.toString());
  const f = page.forecast;
  const filter = (days, label, count) => el('a', { href: '#/certificates' + (days ? '?within=' + days : ''),
    class: 'badge ' + (count > 0 && days && days <= 30 ? 'bad' : 'ok'), 'aria-current': within === String(days || '') ? 'true' : false },
  label + ': ' + count);
  show(el('h1', {}, 'Certificates'),
    el('p', { id: 'forecast', class: 'actions' },
      filter(0, 'Live', f.live), filter(7, 'Expiring within 7 days', f.within_7_days),
      filter(30, 'Within 30 days', f.within_30_days), filter(90, 'Within 90 days', f.within_90_days),
      el('span', { class: 'badge ' + (f.expired > 0 ? 'bad' : 'ok') }, 'Expired: ' + f.expired)),
    el('p', { class: 'note' }, page.total + ' certificates' + (within ? ' expiring within ' + within + ' days' : '') + ', soonest expiry first.'),
    el('table', {}, el('thead', {}, el('tr', {}, ['Device', 'Days left', 'Expires', 'Subject', 'Key', 'Issued', 'Used by the device']
      .map((t) => el('th', { scope: 'col' }, t)))),
    el('tbody', { id: 'certificate-rows' }, page.certificates.map((c) => el('tr', {},
      el('td', {}, el('a', { href: '#/device/' + encodeURIComponent(c.device) }, c.device)),
      el('td', { class: c.days_left <= 7 ? 'error' : '' }, String(c.days_left)), el('td', {}, c.not_after),
      el('td', { class: 'mono' }, c.subject), el('td', {}, c.key), el('td', {}, c.issued), el('td', {}, c.confirmed || 'not yet'))))));
}

// Audit -------------------------------------------------------------------------------------------

function auditTable(events) {
  return el('table', {}, el('thead', {}, el('tr', {},
    ['#', 'When', 'What', 'Subject', 'Detail'].map((t) => el('th', { scope: 'col' }, t)))),
  el('tbody', {}, events.map((e) => el('tr', {}, el('td', {}, String(e.seq)), el('td', {}, e.at),
    el('td', {}, e.kind), el('td', {}, e.subject), el('td', { class: 'mono' }, e.detail_text)))));
}

async function showAudit() {
  const verdict = await api('GET', '/api/v1/audit/verify');
  const badge = verdict.intact ?
    el('span', { class: 'badge ok', id: 'chain-state' }, 'Chain intact: ' + verdict.events + ' events') :
    el('span', { class: 'badge bad', id: 'chain-state' }, 'Chain broken: ' + verdict.detail);
  const page = await api('GET', '/api/v1/audit?limit=200');
  show(el('h1', {}, 'Audit'), el('p', {}, badge), el('p', { class: 'note' }, 'Newest first; ' + page.total + ' events in all.'),
    auditTable(page.events));
  live(showAudit);
}

// Operators ---------------------------------------------------------------------------------------

async function showOperators() {
  const list = await api('GET', '/api/v1/operators');
  show(el('h1', {}, 'Operators'),
    el('table', {}, el('thead', {}, el('tr', {}, ['Name', 'Role', 'Tenant', 'State', 'Sessions', 'Last sign-in']
      .map((t) => el('th', { scope: 'col' }, t)))),
    el('tbody', {}, list.operators.map((o) => el('tr', {}, el('td', {}, o.name), el('td', {}, o.role),
      el('td', {}, o.tenant), el('td', {}, o.state), el('td', {}, String(o.sessions)), el('td', {}, o.last_sign_in))))));
}

// Routing -------------------------------------------------------------------------------------------

async function route() {
  state.refresh = null;
  if (!state.session) return;
  const [path, query] = (location.hash.slice(1) || '/devices').split('?');
  const params = new URLSearchParams(query || '');
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === '#' + path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    if (path.startsWith('/device/')) await showDevice(decodeURIComponent(path.slice(8)));
    else if (path === '/approvals') await showApprovals();
    else if (path === '/audit') await showAudit();
    else if (path === '/certificates') await showCertificates(params);
    else if (path === '/operators') await showOperators();
    else if (path === '/policy') await showPolicy();
    else await showDevices(params);
  } catch (failure) {
    if (state.session) show(el('h1', {}, 'Not shown'), el('p', { class: 'error', role: 'alert' }, failure.message));
  }
}

async function start() {
  document.getElementById('sign-out').addEventListener('click', async () => {
    try { await api('DELETE', '/api/v1/session'); } catch (failure) { /* already ended */ }
    showSignIn('Signed out.');
  });
  window.addEventListener('hashchange', route);
  try {
    signedIn(await api('GET', '/api/v1/session'));
    await route();
  } catch (failure) {
    showSignIn('');
  }
}

start();
