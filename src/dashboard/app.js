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
  main.replaceChildren(...nodes.filter((node) => node !== null && node !== undefined));
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
  document.getElementById('nav-exposure').hidden = !may('read the site');
  document.getElementById('nav-ownership').hidden = !may('read the site');
  document.getElementById('who').textContent =
    op.name + ' (' + op.role + (op.tenant ? ' of ' + op.tenant : '') + ')';
  listen();
}

// The inventory -----------------------------------------------------------------------------

const DEVICE_COLUMNS = [
  ['name', 'Name'], ['maker', 'Maker'], ['owner', 'Owner'], ['zone', 'Zone'],
  ['mac', 'MAC'], ['addresses', 'Addresses'], ['mud_url', 'MUD URL'], ['state', 'State'],
];

function cell(device, key) {
  if (key === 'state') {
    const bad = device.state === 'quarantined' || device.state === 'leaving' || device.state === 'retiring';
    return el('span', { class: 'badge ' + (bad ? 'bad' : 'ok') }, device.state);
  }
  const value = device[key];
  return Array.isArray(value) ? value.join(' ') : (value || '');
}

async function showDevices(params) {
  const filters = { q: params.get('q') || '', maker: params.get('maker') || '', zone: params.get('zone') || '',
    model: params.get('model') || '', state: params.get('state') || '', exposure: params.get('exposure') || '' };
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
  input('model', 'Model (MUD URL)'),
  el('label', {}, 'State', el('select', { name: 'state' },
    [['', 'Any'], ['onboarded', 'Onboarded'], ['seen', 'Seen on the network'], ['quarantined', 'Quarantined'],
      ['leaving', 'Leaving (transferred)'], ['retiring', 'Retiring (decommissioned)']].map(([value, text]) =>
      el('option', { value, selected: filters.state === value }, text)))),
  el('label', {}, 'Exposure', el('select', { name: 'exposure' },
    [['', 'Any'], ['exposed', 'Exposed to a known threat'], ['weak', 'With a known weakness']].map(([value, text]) =>
      el('option', { value, selected: filters.exposure === value }, text)))),
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
  const rows = [['name', 'serial', 'maker', 'owner', 'zone', 'mac', 'addresses', 'mud_url', 'state', 'quarantined_since']];
  for (let offset = 0; ; offset += 500) {
    const query = new URLSearchParams({ offset: String(offset), limit: '500' });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    const page = await api('GET', '/api/v1/devices?' + query.toString());
    for (const d of page.devices) rows.push([d.name, d.serial, d.maker, d.owner, d.zone, d.mac, d.addresses.join(' '), d.mud_url,
      d.state, d.quarantine ? d.quarantine.since : '']);
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
  const [trail, mud, exposure] = await Promise.all([
    api('GET', '/api/v1/audit?subject=' + encodeURIComponent('device:' + name) + '&limit=200'),
    api('GET', '/api/v1/devices/' + encodeURIComponent(name) + '/mud'),
    // A device the analyzer has no class for (no MUD policy) answers 404: nothing to show.
    api('GET', '/api/v1/exposure/devices/' + encodeURIComponent(name)).catch(() => null)]);
  show(el('h1', {}, 'Device ' + device.name),
    el('dl', { class: 'record' }, fields.map(([label, value]) => [el('dt', {}, label), el('dd', {}, value || '—')])),
    quarantinePanel(device), mudPanel(mud), exposure ? exposurePanel(exposure) : null,
    device.onboarding ? ownershipPanel(device) : null,
    el('h2', {}, 'Audit trail'), auditTable(trail.events));
}

// exposurePanel says why the device is exposed: what reaches its weak services, what it could
// attack if compromised, and the botnet traffic it could send.
function exposurePanel(exposure) {
  const list = (id, items, text) => items.length ?
    el('ul', { id }, items.map((item) => el('li', {}, text(item)))) : el('p', { class: 'note' }, 'None.');
  return el('section', { id: 'exposure', 'aria-labelledby': 'exposure-heading' },
    el('h2', { id: 'exposure-heading' }, 'Exposure'),
    el('p', {}, el('span', { class: 'badge ' + (exposure.score > 0 ? 'bad' : 'ok') }, 'Score ' + exposure.score),
      ' blast radius ' + exposure.blast_radius + ' device(s); weaknesses: ' + (exposure.weaknesses.join(', ') || 'none known') +
      '. ', el('a', { href: '#/exposure' }, 'The exposure graph')),
    el('h3', {}, 'Reachable on a weak service from'),
    list('reachable-from', exposure.reachable_from, (e) => e.from + ' on ' + e.port + ' (' + e.threat + '): ' + e.reason),
    el('h3', {}, 'Could attack, if compromised'),
    list('can-attack', exposure.can_attack, (e) => e.to + ' on ' + e.port + ' (' + e.threat + ')'),
    el('h3', {}, 'Botnet traffic it could send'),
    list('botnet-traffic', exposure.botnet_traffic, (l) => l.port + ' to ' + l.peer + ' (' + l.threat + ')'));
}

// ownershipPanel reads the device's ownership chain at its MASA on request (a call to the
// maker), and lets an owner decommission the device.
function ownershipPanel(device) {
  const path = '/api/v1/devices/' + encodeURIComponent(device.name);
  const chain = el('div', { id: 'ownership-chain', 'aria-live': 'polite' });
  const check = el('button', { type: 'button', class: 'secondary', onclick: async () => {
    chain.replaceChildren(el('p', { class: 'note' }, 'Asking the maker\'s MASA…'));
    try {
      const answer = await api('GET', path + '/ownership');
      chain.replaceChildren(
        el('p', {}, el('span', { class: 'badge ' + (answer.owned_by_this_site ? 'ok' : 'bad') },
          answer.owned_by_this_site ? 'Owned by this site' : 'Not owned by this site'), ' (maker ' + answer.maker + ')'),
        el('table', {}, el('thead', {}, el('tr', {}, ['#', 'Kind', 'Issued', 'To'].map((t) => el('th', { scope: 'col' }, t)))),
          el('tbody', {}, answer.entries.map((e) => el('tr', {}, el('td', {}, String(e.index)), el('td', {}, e.kind),
            el('td', {}, e.issued_at), el('td', {}, e.to))))));
    } catch (failure) {
      chain.replaceChildren(el('p', { class: 'error' }, failure.message));
    }
  } }, 'Check the ownership chain');
  const canRetire = may('ownership');
  const gone = el('input', { type: 'checkbox', id: 'device-gone', disabled: !canRetire });
  const retire = el('button', { type: 'button', class: 'danger', disabled: !canRetire, onclick: async () => {
    try {
      const answer = await api('POST', path + '/decommission', { device_gone: gone.checked });
      // A device whose membership ended has left the registry: back to the inventory.
      if (gone.checked) location.hash = '#/devices'; else await showDevice(device.name);
      say('Device ' + device.name + ': ' + answer.done + '.');
    } catch (failure) {
      say('Refused: ' + failure.message);
    }
  } }, 'Decommission');
  return el('section', { id: 'ownership', 'aria-labelledby': 'ownership-heading' },
    el('h2', { id: 'ownership-heading' }, 'Ownership'),
    el('div', { class: 'actions' }, check,
      el('label', { class: 'inline', for: 'device-gone' }, gone, 'The device is gone (dead or lost)'), retire),
    canRetire ? null : el('p', { class: 'note' }, 'Only an owner can decommission a device.'),
    chain);
}

// mudPanel shows the device's MUD file and the rules that enforce it.
function mudPanel(mud) {
  const facts = [
    ['MUD URL', mud.mud_url ? mud.mud_url + ' (' + mud.url_source + ')' : ''],
    ['File', mud.signer ? 'verified, signed by ' + mud.signer : (mud.mud_url ? 'none verified yet' : '')],
    ['System', mud.systeminfo], ['Fetched', mud.fetched], ['Fetch again after', mud.expires],
    ['Warnings', (mud.warnings || []).join('; ')], ['Last refusal', mud.last_error],
    ['Not enforced', mud.unmanaged],
  ].filter(([, value]) => value);
  return el('section', { id: 'mud', 'aria-labelledby': 'mud-heading' },
    el('h2', { id: 'mud-heading' }, 'MUD file and allowed flows'),
    facts.length ? el('dl', { class: 'record' }, facts.map(([label, value]) => [el('dt', {}, label), el('dd', {}, value)])) :
      el('p', { class: 'note' }, 'No MUD URL: the device is not under MUD policy.'),
    mud.rules ? el('pre', { class: 'mono rules', tabindex: '0', 'aria-label': 'The device\'s rules' }, mud.rules) : null);
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

// Exposure ------------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function shorten(text, limit) {
  return text.length <= limit ? text : text.slice(0, limit - 1) + '…';
}

// drawExposure draws the laid-out graph the server sends; selecting a node or an attack path
// highlights its hops.
function drawExposure(graph, onSelect) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const w = graph.node_width;
  const h = graph.node_height;
  const edges = graph.edges.map((edge) => {
    const from = byId.get(edge.from);
    const to = byId.get(edge.to);
    let d;
    let labelAt;
    if (edge.from === edge.to) {
      const x1 = from.x + w / 2 - 30; const x2 = from.x + w / 2 + 30;
      d = `M${x1},${from.y} C${x1},${from.y - 40} ${x2},${from.y - 40} ${x2},${from.y}`;
      labelAt = [from.x + w / 2, from.y - 34];
    } else if (from.x === to.x) {  // one column: a bend out to the right
      const x = from.x + w; const y1 = from.y + h / 2; const y2 = to.y + h / 2;
      d = `M${x},${y1} C${x + 70},${y1} ${x + 70},${y2} ${x},${y2}`;
      labelAt = [x + 56, (y1 + y2) / 2 + (y2 > y1 ? -6 : 12)];
    } else {
      const x1 = from.x + w; const y1 = from.y + h / 2; const x2 = to.x; const y2 = to.y + h / 2;
      d = `M${x1},${y1} C${x1 + 90},${y1} ${x2 - 90},${y2} ${x2},${y2}`;
      labelAt = [(x1 + x2) / 2, (y1 + y2) / 2 - 4];
    }
    const title = edge.from + ' to ' + edge.to + ': ' + edge.labels.join(', ');
    return svgEl('g', { class: 'edge ' + edge.kind + (edge.on_path ? ' on-path' : ''), 'data-from': edge.from, 'data-to': edge.to },
      svgEl('path', { d, 'marker-end': 'url(#arrow-' + (edge.kind === 'flow' ? 'flow' : 'attack') + ')' }, svgEl('title', {}, title)),
      svgEl('text', { x: labelAt[0], y: labelAt[1], 'text-anchor': from.x === to.x && edge.from !== edge.to ? 'start' : 'middle' },
        shorten(edge.labels[0] || '', 32) + (edge.labels.length > 1 ? ' …' : '')));
  });
  const nodes = graph.nodes.map((node) => {
    const weak = node.weaknesses.length > 0 || node.kind === 'peer';
    const summary = node.kind === 'class' ? 'score ' + node.score + ', blast radius ' + node.blast_radius : node.kind;
    const shown = shorten(node.label, 34);
    // The accessible name is the text on screen; the whole label is in the detail panel.
    const group = svgEl('g', { class: 'node ' + node.kind + (weak ? ' weak' : ''), 'data-id': node.id,
      tabindex: '0', role: 'button', 'aria-label': shown + ' ' + summary,
      onclick: () => onSelect(node), onkeydown: (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); onSelect(node); } } },
    svgEl('rect', { x: node.x, y: node.y, width: w, height: h, rx: node.kind === 'class' ? 4 : 24 }),
    svgEl('text', { x: node.x + 10, y: node.y + 22, class: 'label' }, shown),
    svgEl('text', { x: node.x + 10, y: node.y + 42, class: 'detail' }, summary));
    return group;
  });
  const marker = (id) => svgEl('marker', { id, viewBox: '0 0 10 10', refX: '10', refY: '5', markerUnits: 'userSpaceOnUse', markerWidth: '10', markerHeight: '10', orient: 'auto' },
    svgEl('path', { d: 'M0,0 L10,5 L0,10 z' }));
  return svgEl('svg', { id: 'exposure-graph', viewBox: `0 0 ${graph.width} ${graph.height}`, width: graph.width, height: graph.height,
    role: 'group', 'aria-label': 'Exposure graph: ' + graph.nodes.length + ' nodes, ' + graph.paths.length + ' attack paths' },
  svgEl('defs', {}, marker('arrow-flow'), marker('arrow-attack')), edges, nodes);
}

// highlight marks the given nodes and the hops between consecutive ones.
function highlight(svg, ids, hops) {
  svg.querySelectorAll('.highlight').forEach((n) => n.classList.remove('highlight'));
  for (const node of svg.querySelectorAll('.node')) if (ids.has(node.dataset.id)) node.classList.add('highlight');
  for (const edge of svg.querySelectorAll('.edge')) {
    if (hops.has(edge.dataset.from + '\n' + edge.dataset.to)) edge.classList.add('highlight');
  }
}

function pathHops(path) {
  const hops = new Set();
  for (let i = 0; i + 1 < path.length; i++) hops.add(path[i] + '\n' + path[i + 1]);
  return hops;
}

async function showExposure() {
  const [report, graph] = await Promise.all([api('GET', '/api/v1/exposure'), api('GET', '/api/v1/exposure/graph')]);
  const detail = el('section', { id: 'node-detail', class: 'panel', 'aria-live': 'polite' },
    el('p', { class: 'note' }, 'Select a node or an attack path to highlight it.'));
  let svg;
  const select = (node) => {
    const on = graph.paths.filter((path) => path.includes(node.id));
    const hops = new Set();
    on.forEach((path) => pathHops(path).forEach((hop) => hops.add(hop)));
    highlight(svg, new Set([node.id]), hops);
    detail.replaceChildren(el('h2', {}, node.label),
      el('dl', { class: 'record' },
        el('dt', {}, 'Kind'), el('dd', {}, node.kind),
        el('dt', {}, 'Weaknesses'), el('dd', {}, node.weaknesses.join(', ') || 'none known'),
        node.kind === 'class' ? [el('dt', {}, 'Score'), el('dd', {}, String(node.score)),
          el('dt', {}, 'Blast radius'), el('dd', {}, node.blast_radius + ' device(s)')] : null,
        el('dt', {}, 'Attack paths through it'), el('dd', {}, String(on.length))),
      node.members.length ? el('p', {}, 'Devices: ', node.members.map((name, i) => [i ? ', ' : '',
        el('a', { href: '#/device/' + encodeURIComponent(name) }, name)])) : null);
  };
  svg = drawExposure(graph, select);
  const paths = el('ol', { id: 'attack-paths' }, report.attack_paths.map((steps, i) => el('li', {},
    el('button', { type: 'button', class: 'secondary', onclick: () => {
      highlight(svg, new Set(graph.paths[i]), pathHops(graph.paths[i]));
      detail.replaceChildren(el('h2', {}, 'Attack path ' + (i + 1)), el('ol', {}, steps.map((step) => el('li', { class: 'mono' }, step))));
    } }, 'Highlight path ' + (i + 1)), ' ', steps[0])));
  const result = el('section', { id: 'tightening-result', 'aria-live': 'polite' });
  const tighten = async (mode) => {
    try {
      const answer = await api('POST', '/api/v1/exposure/tighten', { mode });
      if (mode !== 'preview') {
        await showExposure();
        say('Tightening ' + (mode === 'off' ? 'off' : 'on: ' + answer.blocks.length + ' block(s)') + '; firewall ' +
          answer.policy.firewall + (answer.policy.changed ? ', ruleset changed.' : ', ruleset unchanged.'));
        return;
      }
      result.replaceChildren(el('h2', {}, 'Drops tightening would add'),
        el('p', {}, answer.blocks.length + ' block(s); declared flows broken: ' + answer.legit_flows_blocked + ' of ' +
          answer.legit_flows_total + '; left open: ' + answer.exposures_left + ' exposure(s), ' + answer.leaks_left + ' leak(s).'),
        el('ul', { id: 'blocks' }, answer.blocks.map((b) => el('li', {}, b.name + ': drop ' + b.ports.join(', ') + ' (' + b.reason + ')'))),
        answer.conflicts.length ? el('ul', {}, answer.conflicts.map((c) => el('li', {}, c.class + ' keeps port ' + c.port + ' open: ' + c.flow))) : null);
    } catch (failure) {
      say('Refused: ' + failure.message);
    }
  };
  const canTighten = may('policy');
  show(el('h1', {}, 'Exposure'),
    el('p', {}, el('span', { class: 'badge ' + (report.site_score > 0 ? 'bad' : 'ok'), id: 'site-score' }, 'Site exposure score ' + report.site_score),
      ' ', el('span', { class: 'badge ' + (report.tightening ? 'ok' : 'bad'), id: 'tightening-state' }, 'Tightening ' + (report.tightening ? 'on' : 'off')),
      ' ', el('a', { href: '/api/v1/exposure/graph.svg', download: 'exposure.svg' }, 'Download SVG')),
    el('div', { class: 'graph' }, svg), detail,
    el('h2', {}, 'Attack paths (' + report.attack_paths.length + ')'),
    report.attack_paths.length ? paths : el('p', { class: 'note' }, 'None: no weak service is reachable.'),
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', disabled: !canTighten, onclick: () => tighten('preview') }, 'Preview tightening'),
      el('button', { type: 'button', disabled: !canTighten, onclick: () => tighten('apply') }, 'Apply tightening'),
      el('button', { type: 'button', class: 'secondary', disabled: !canTighten || !report.tightening, onclick: () => tighten('off') }, 'Turn tightening off')),
    canTighten ? null : el('p', { class: 'note' }, 'Your role (' + state.session.operator.role + ') cannot change the policy.'),
    result);
}

// Ownership: tenants, transfers ---------------------------------------------------------------------

async function showOwnership() {
  const list = await api('GET', '/api/v1/tenants');
  const canChange = may('ownership');
  const field = (id, label, input) => el('label', { for: id }, label, input);
  const input = (id, attrs) => el('input', Object.assign({ id, name: id, disabled: !canChange }, attrs || {}));
  const textarea = (id) => el('textarea', { id, name: id, rows: '4', cols: '64', spellcheck: 'false', disabled: !canChange });
  const submit = (text) => el('button', { type: 'submit', disabled: !canChange }, text);
  const names = (text) => text.split(/[\s,]+/).filter(Boolean);
  const act = (form, send) => form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try { await send(); } catch (failure) { say('Refused: ' + failure.message); }
  });

  const grant = el('form', { class: 'stack', id: 'grant-form' },
    field('tenant-name', 'Tenant', input('tenant-name', { required: true, maxlength: '128' })),
    field('tenant-key', 'Tenant\'s public key (PEM)', textarea('tenant-key')),
    field('tenant-devices', 'Devices (names, separated by spaces or commas)', input('tenant-devices', { required: true })),
    field('tenant-days', 'Days', input('tenant-days', { type: 'number', min: '1', max: '3650', value: '30', required: true })),
    submit('Grant'));
  act(grant, async () => {
    const answer = await api('POST', '/api/v1/tenants', { tenant: grant.querySelector('#tenant-name').value,
      key: grant.querySelector('#tenant-key').value, devices: names(grant.querySelector('#tenant-devices').value),
      days: Number(grant.querySelector('#tenant-days').value) });
    say('Delegation ' + answer.id + ': ' + answer.tenant + ' may operate ' + answer.devices.length + ' device(s) until ' + answer.until + '.');
    await showOwnership();
  });

  const handover = el('form', { class: 'stack', id: 'export-form' },
    field('new-owner-key', 'New owner\'s domain CA certificate or public key (PEM)', textarea('new-owner-key')),
    field('new-registrar', 'New owner\'s registrar (URL)', input('new-registrar', { required: true, placeholder: 'https://registrar.example:8443' })),
    field('export-devices', 'Devices', input('export-devices', { required: true })),
    submit('Export to the new owner'));
  const exported = el('div', { id: 'export-result', 'aria-live': 'polite' });
  act(handover, async () => {
    const answer = await api('POST', '/api/v1/transfers/export', { to: handover.querySelector('#new-owner-key').value,
      registrar: handover.querySelector('#new-registrar').value, devices: names(handover.querySelector('#export-devices').value) });
    const link = el('a', { href: URL.createObjectURL(new Blob([answer.bundle], { type: 'application/json' })), download: 'transfer-bundle.json' },
      'Download the bundle for ' + answer.to);
    exported.replaceChildren(el('p', {}, answer.devices.length + ' device(s) will move to ' + answer.registrar +
      ' at their next check-in, once the new owner imports the bundle. '), link);
  });

  const takeover = el('form', { class: 'stack', id: 'import-form' },
    field('bundle-file', 'Transfer bundle from the old owner (at most 64 KiB here; larger with concierge transfer import)',
      el('input', { type: 'file', id: 'bundle-file', accept: 'application/json,.json', disabled: !canChange })),
    submit('Take the devices over'));
  act(takeover, async () => {
    const file = takeover.querySelector('#bundle-file').files[0];
    if (!file) { say('Choose the bundle file first.'); return; }
    const answer = await api('POST', '/api/v1/transfers/import', { bundle: await file.text() });
    say(answer.devices + ' device(s) from "' + answer.from + '" are now this site\'s at their MASAs.');
  });

  show(el('h1', {}, 'Ownership'),
    canChange ? null : el('p', { class: 'note' }, 'Only an owner changes tenants and ownership.'),
    el('h2', {}, 'Tenants'),
    el('table', {}, el('thead', {}, el('tr', {}, ['Id', 'Tenant', 'Key', 'Devices', 'From', 'Until', 'State', '']
      .map((t) => el('th', { scope: 'col' }, t)))),
    el('tbody', { id: 'delegation-rows' }, list.delegations.map((d) => el('tr', {},
      el('td', {}, String(d.id)), el('td', {}, d.tenant), el('td', { class: 'mono' }, d.key), el('td', {}, d.devices.join(', ')),
      el('td', {}, d.from), el('td', {}, d.until), el('td', {}, d.state),
      el('td', {}, d.state === 'revoked' || d.state === 'expired' ? '' : el('button', { type: 'button', class: 'secondary',
        disabled: !canChange, 'aria-label': 'Revoke delegation ' + d.id, onclick: async () => {
          try { await api('DELETE', '/api/v1/tenants/' + d.id); say('Delegation ' + d.id + ' revoked.'); await showOwnership(); } catch (failure) { say('Refused: ' + failure.message); }
        } }, 'Revoke')))))),
    el('h2', {}, 'Grant a tenant'), grant,
    el('h2', {}, 'Hand devices to a new owner'), handover, exported,
    el('h2', {}, 'Take devices over'), takeover);
}

// Policy --------------------------------------------------------------------------------------------

async function showPolicy() {
  const policy = await api('GET', '/api/v1/policy');
  const kind = policy.firewall === 'dry-run' ?
    el('span', { class: 'badge bad', id: 'firewall-kind' }, 'Dry run: rules rendered, not loaded into the kernel') :
    el('span', { class: 'badge ok', id: 'firewall-kind' }, 'Enforced by nftables');
  const applied = policy.in_force;
  const pending = await api('GET', '/api/v1/policy/diff');
  const apply = el('button', { type: 'button', id: 'apply-policy', disabled: !may('policy') || !pending.changed, onclick: async () => {
    try {
      const answer = await api('POST', '/api/v1/policy/apply');
      say('Policy ' + (answer.changed ? 'applied' : 'unchanged') + ': ' + answer.devices + ' device(s), ' + answer.rules + ' rule(s); firewall ' + answer.firewall + '.');
      await showPolicy();
    } catch (failure) {
      say('Refused: ' + failure.message);
    }
  } }, 'Apply policy');
  show(el('h1', {}, 'Policy'), el('p', {}, kind),
    el('h2', {}, 'Not yet applied'),
    pending.changed ? el('pre', { id: 'pending-diff', class: 'mono rules', tabindex: '0', 'aria-label': 'Changes not yet applied' }, pending.diff || '(the same rules, not in force yet)') :
      el('p', { class: 'note', id: 'pending-diff' }, 'Nothing: the ruleset in force is current.'),
    el('div', { class: 'actions' }, apply),
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
    else if (path === '/exposure') await showExposure();
    else if (path === '/ownership') await showOwnership();
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
