// End-to-end: the dashboard in Debian's Chromium, driven by Playwright, against the real binary.
// An owner signs in with a one-time code, approves waiting devices in bulk and watches them
// appear in the inventory without a reload, exports it as CSV and opens a device; a tenant sees
// only its delegated device; an auditor's change is refused by the page and by the API. Every
// page passes axe-core with no serious or critical violation, and a screenshot of each is
// written to the directory given.
// Usage: node dashboard_test.mjs PATH_TO_CONCIERGE SCREENSHOT_DIR
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [binaryArgument, shots] = process.argv.slice(2);
const binary = path.resolve(binaryArgument);
const CHROMIUM = '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.log('SKIP: /usr/bin/chromium is missing (scripts/install-deps installs it)');
  process.exit(77);
}
let chromium;
let axeSource;
try {
  ({ chromium } = require('playwright-core'));
  axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
} catch {
  console.log('SKIP: tests/e2e has no node_modules (scripts/install-deps runs npm ci there)');
  process.exit(77);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'concierge-e2e-'));
const children = [];
fs.mkdirSync(shots, { recursive: true });

function run(...args) {
  return execFileSync(binary, args, { cwd: work, encoding: 'utf8' });
}

function start(args, addressFiles) {
  const log = fs.openSync(path.join(work, args[0] + '-' + children.length + '.log'), 'w');
  children.push(spawn(binary, args, { cwd: work, stdio: ['ignore', log, log] }));
  return waitFor(() => addressFiles.every((file) => fs.existsSync(path.join(work, file))), args[0]);
}

async function waitFor(check, what, seconds = 60) {
  for (let i = 0; i < seconds * 10; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out waiting for ' + what);
}

function read(file) {
  return fs.readFileSync(path.join(work, file), 'utf8').trim();
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function accessible(page, name) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document));
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const violation of bad) {
    console.error(`axe: ${name}: ${violation.id} (${violation.impact}): ${violation.help}`);
    for (const node of violation.nodes.slice(0, 3)) console.error('   ' + node.target.join(' '));
  }
  check(bad.length === 0, `${name} has ${bad.length} serious or critical accessibility violations`);
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  console.log(`--- ${name}: no serious or critical axe violations; screenshot written`);
}

// openDevice shows a device's page and waits for it, not the page shown before.
async function openDevice(page, name) {
  await page.goto(base + '#/device/' + name);
  await page.getByRole('heading', { name: 'Device ' + name, exact: true }).waitFor();
}

async function signIn(browser, code) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel('One-time code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  return { context, page };
}

// A camera's MUD file as the INXU experiment widened it: any TCP within the site's networks.
const CAMERA_MUD = {
  'ietf-mud:mud': {
    'mud-version': 1, 'mud-url': 'https://mud.cams.example/camera.json',
    'last-update': '2026-11-20T09:00:00+00:00', 'cache-validity': 48, 'is-supported': true,
    systeminfo: 'Test camera', 'mfg-name': 'Cams',
    'from-device-policy': { 'access-lists': { 'access-list': [{ name: 'out' }] } },
    'to-device-policy': { 'access-lists': { 'access-list': [{ name: 'in' }] } },
  },
  'ietf-access-control-list:acls': { acl: ['out', 'in'].map((name) => ({
    name, type: 'ipv4-acl-type', aces: { ace: [{ name: 'lan',
      matches: { 'ietf-mud:mud': { 'local-networks': [null] }, ipv4: { protocol: 6 } },
      actions: { forwarding: 'accept' } }] },
  })) },
};

let base;
let browser;
try {
  run('site', 'init', '--dir', 'home', '--name', 'Home');
  run('maker', 'init', '--dir', 'careful', '--name', 'Careful', '--masa-url', '127.0.0.1:9');
  run('site', 'trust-maker', '--dir', 'home', '--ca', 'careful/ca.pem', '--name', 'Careful',
      '--approval', 'manual');
  const code = (role, name, ...extra) =>
    JSON.parse(run('operator', 'add', '--dir', 'home', '--name', name, '--role', role, ...extra,
                   '--json')).code;
  const owner = code('owner', 'alice');
  const auditor = code('auditor', 'audrey');
  const tenant = code('tenant', 'tina', '--tenant', 'Flat 3');
  await start(['maker', 'serve', '--dir', 'careful', '--listen', '127.0.0.1:0'],
              ['careful/listen.addr']);
  await start(['serve', '--dir', 'home', '--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0',
               '--firewall', 'dry-run'],
              ['home/listen.addr', 'home/api.addr']);
  base = 'https://' + read('home/api.addr') + '/';

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  // The owner signs in; the sign-in page itself is checked first.
  const first = await browser.newContext({ ignoreHTTPSErrors: true });
  const signInPage = await first.newPage();
  await signInPage.goto(base);
  await signInPage.getByLabel('One-time code').waitFor();
  await accessible(signInPage, 'sign-in');
  await first.close();
  const { context, page: inventory } = await signIn(browser, owner);
  await accessible(inventory, 'devices-empty');

  // Three devices ask to join and wait for approval.
  const masa = read('careful/listen.addr');
  for (const serial of ['LOCK-1', 'LOCK-2', 'LOCK-3']) {
    run('maker', 'mint', '--dir', 'careful', '--serial', serial, '--masa-url', masa, '--out', serial);
    const log = fs.openSync(path.join(work, serial + '.log'), 'w');
    children.push(spawn(binary, ['device', 'enroll', '--identity', serial, '--registrar',
                                 'https://' + read('home/listen.addr')],
                        { cwd: work, stdio: ['ignore', log, log] }));
  }
  const approvals = await context.newPage();
  await approvals.goto(base + '#/approvals');
  await waitFor(async () => (await approvals.locator('#approval-rows input[type=checkbox]').count()) === 3,
                'three devices in the approval queue');
  await accessible(approvals, 'approvals');
  await approvals.locator('#select-all').check();
  await approvals.getByRole('button', { name: 'Approve selected' }).click();
  await approvals.getByText('3 approved, 0 refused').waitFor();

  // The inventory page, open all along, fills as the devices enroll: no reload.
  await inventory.getByText('Devices 1–3 of 3.').waitFor({ timeout: 60000 });
  check((await inventory.locator('#device-rows tr').count()) === 3, 'three rows in the inventory');
  await accessible(inventory, 'devices');

  const [download] = await Promise.all([
    inventory.waitForEvent('download'),
    inventory.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  check(csv[0] === 'name,serial,maker,owner,zone,mac,addresses,mud_url,state,quarantined_since', 'CSV header: ' + csv[0]);
  check(csv.length === 4 && csv[1].startsWith('LOCK-1,LOCK-1,Careful,Home'), 'CSV rows: ' + csv.join(' | '));
  console.log('--- the inventory exported as CSV: ' + (csv.length - 1) + ' devices');

  await inventory.getByRole('link', { name: 'LOCK-2' }).click();
  await inventory.getByRole('heading', { name: 'Device LOCK-2' }).waitFor();
  await inventory.getByText('device.approved').first().waitFor();
  await accessible(inventory, 'device');

  // Quarantining LOCK-2 puts its address in the firewall's quarantine set at once (the site
  // controller runs with the firewall's dry run: the ruleset is rendered, not loaded).
  run('mud', 'address', '--dir', 'home', 'LOCK-2', '192.0.2.42');
  await inventory.getByLabel('Reason').fill('sends traffic it never declared');
  await inventory.getByRole('button', { name: 'Quarantine', exact: true }).click();
  await inventory.locator('#quarantine .badge', { hasText: 'Quarantined' }).waitFor();
  await accessible(inventory, 'device-quarantined');
  await inventory.getByRole('link', { name: 'Policy' }).click();
  await inventory.locator('#quarantined', { hasText: 'LOCK-2' }).waitFor();
  const ruleset = await inventory.locator('#ruleset').textContent();
  check(ruleset.includes('ip saddr @quarantine_4 counter drop') &&
        ruleset.includes('ip daddr @quarantine_4 counter drop') && ruleset.includes('192.0.2.42'),
        'the ruleset in force does not cut LOCK-2 off:\n' + ruleset);
  await accessible(inventory, 'policy');
  await inventory.goto(base + '#/devices?state=quarantined');
  await inventory.getByText('Devices 1–1 of 1.').waitFor();
  check(await inventory.getByRole('link', { name: 'LOCK-2' }).isVisible(), 'LOCK-2 is the quarantined one');
  console.log('--- LOCK-2 quarantined from its page; the quarantine rules are in the ruleset');

  // Three cameras whose MUD file allows any TCP within the site, with factory telnet logins: the
  // exposure graph shows them as one weak class with an attack path.
  fs.writeFileSync(path.join(work, 'camera.json'), JSON.stringify(CAMERA_MUD));
  run('maker', 'mud-sign', '--dir', 'careful', '--file', 'camera.json');
  run('mud', 'trust', 'mud.cams.example', '--ca', 'careful/ca.pem', '--dir', 'home');
  run('policy', 'fact', 'add', 'local-network', '10.88.0.0/16', '--dir', 'home');
  run('mud', 'load', '--file', 'careful/mud/camera.json', '--signature', 'careful/mud/camera.p7s',
      '--dir', 'home');
  for (const i of [1, 2, 3]) {
    run('mud', 'assign', 'cam-' + i, 'https://mud.cams.example/camera.json', '--address',
        `10.88.${i}.2`, '--dir', 'home');
    run('exposure', 'mark', 'cam-' + i, 'factory-credentials', '--dir', 'home');
  }
  await inventory.getByRole('link', { name: 'Exposure' }).click();
  await inventory.locator('#exposure-graph').waitFor();
  check((await inventory.locator('#exposure-graph .node.class.weak').count()) === 1, 'one weak class in the graph');
  check((await inventory.locator('#exposure-graph .edge.exposure.on-path').count()) === 1,
        'the attack hop is drawn on its path');
  await inventory.getByRole('button', { name: 'Highlight path 1' }).click();
  check((await inventory.locator('#exposure-graph .edge.highlight').count()) === 1, 'the path is highlighted');
  await inventory.locator('#exposure-graph .node.class').click();
  await inventory.locator('#node-detail').getByRole('link', { name: 'cam-2' }).waitFor();
  await accessible(inventory, 'exposure');
  await inventory.getByRole('button', { name: 'Preview tightening' }).click();
  await inventory.locator('#blocks', { hasText: 'mirai-telnet' }).waitFor();
  await inventory.getByRole('button', { name: 'Apply tightening' }).click();
  await inventory.locator('#tightening-state', { hasText: 'Tightening on' }).waitFor();
  await inventory.getByRole('link', { name: 'Policy' }).click();
  const tightened = await inventory.locator('#ruleset').textContent();
  check(tightened.includes('chain exposure') && tightened.includes('mirai-telnet') &&
        tightened.includes('@quarantine_4'), 'the ruleset lacks the exposure blocks:\n' + tightened);
  await inventory.goto(base + '#/devices?exposure=weak');
  await inventory.getByText('Devices 1–3 of 3.').waitFor();
  check(await inventory.getByRole('link', { name: 'cam-2' }).isVisible(), 'the weak cameras are listed');
  console.log('--- the exposure graph shows the weak class and its attack path; tightening applied');

  // A fourth camera arrives: the policy page shows what applying would change, and applies it.
  run('mud', 'assign', 'cam-4', 'https://mud.cams.example/camera.json', '--address', '10.88.4.2',
      '--dir', 'home');
  await inventory.goto(base + '#/policy');
  await inventory.locator('#pending-diff', { hasText: '10.88.4.2' }).waitFor();
  await accessible(inventory, 'policy-pending');
  await inventory.getByRole('button', { name: 'Apply policy' }).click();
  await inventory.locator('#pending-diff', { hasText: 'Nothing: the ruleset in force is current.' }).waitFor();
  check((await inventory.locator('#ruleset').textContent()).includes('10.88.4.2'), 'cam-4 is in the ruleset');
  await openDevice(inventory, 'cam-2');
  await inventory.locator('#reachable-from', { hasText: 'mirai-telnet' }).waitFor();
  await accessible(inventory, 'device-exposure');
  await openDevice(inventory, 'cam-4');
  await inventory.locator('#mud', { hasText: 'verified, signed by' }).waitFor();
  check((await inventory.locator('#mud pre').textContent()).includes('# device cam-4: 10.88.4.2'),
        'the device page shows the rules that enforce its MUD file');
  await accessible(inventory, 'device-mud');
  console.log('--- the policy page applied the pending change; a device page shows its MUD rules');
  await inventory.getByRole('link', { name: 'Certificates' }).click();
  await inventory.getByText('Live: 3').waitFor();
  check((await inventory.locator('#certificate-rows tr').count()) === 3, 'three certificates');
  await accessible(inventory, 'certificates');
  await inventory.getByRole('link', { name: 'Audit' }).click();
  await inventory.locator('#chain-state', { hasText: 'Chain intact' }).waitFor();
  await accessible(inventory, 'audit');
  await inventory.getByRole('link', { name: 'Operators' }).click();
  await inventory.getByRole('cell', { name: 'audrey' }).waitFor();
  await accessible(inventory, 'operators');

  // A tenant sees only the device delegated to it.
  // The owner grants the tenant LOCK-2 from the ownership page, and reads LOCK-1's ownership
  // chain at its MASA from the device's page.
  run('tenant', 'keygen', '--out', 'flat3');
  await inventory.getByRole('link', { name: 'Ownership' }).click();
  await inventory.getByLabel('Tenant', { exact: true }).fill('Flat 3');
  await inventory.getByLabel("Tenant's public key (PEM)").fill(read('flat3.pub.pem'));
  await inventory.getByLabel('Devices (names, separated by spaces or commas)').fill('LOCK-2');
  await inventory.getByRole('button', { name: 'Grant' }).click();
  await inventory.locator('#delegation-rows', { hasText: 'in force' }).waitFor();
  await accessible(inventory, 'ownership');
  await openDevice(inventory, 'LOCK-1');
  await inventory.getByRole('button', { name: 'Check the ownership chain' }).click();
  await inventory.locator('#ownership-chain', { hasText: 'Owned by this site' }).waitFor();
  await accessible(inventory, 'device-ownership');
  console.log('--- a tenant granted from the ownership page; LOCK-1 is owned by this site at its MASA');
  const asTenant = await signIn(browser, tenant);
  await asTenant.page.getByText('Devices 1–1 of 1.').waitFor();
  check(await asTenant.page.getByRole('link', { name: 'LOCK-2' }).isVisible(), 'the tenant sees LOCK-2');
  check((await asTenant.page.locator('#device-rows tr').count()) === 1, 'the tenant sees one device');
  await asTenant.page.screenshot({ path: path.join(shots, 'tenant-devices.png'), fullPage: true });
  check(await asTenant.page.locator('#nav-policy').isHidden(), 'a tenant has no policy page');
  console.log('--- a tenant sees only its delegated device');
  // The tenant may operate its device: it releases LOCK-2 from quarantine.
  await asTenant.page.getByRole('link', { name: 'LOCK-2' }).click();
  await asTenant.page.getByRole('button', { name: 'Release' }).click();
  await asTenant.page.getByRole('button', { name: 'Quarantine', exact: true }).waitFor();
  await accessible(asTenant.page, 'device-tenant');
  const trail = run('audit', 'show', '--dir', 'home', '--device', 'LOCK-2');
  check(/device\.released.*operator:tina/.test(trail), 'the release is not recorded as tina\'s:\n' + trail);
  console.log('--- the tenant released its device; the audit chain names the tenant');

  // An auditor cannot approve: the page says so and the API refuses.
  const asAuditor = await signIn(browser, auditor);
  await asAuditor.page.goto(base + '#/approvals');
  await asAuditor.page.locator('#approve-note').waitFor();
  check(await asAuditor.page.getByRole('button', { name: 'Approve selected' }).isDisabled(),
        'the approve button is disabled for an auditor');
  const refused = await asAuditor.page.evaluate(async () => {
    const session = await (await fetch('/api/v1/session')).json();
    const answer = await fetch('/api/v1/approvals', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
      body: JSON.stringify({ ids: [1] }),
    });
    return { status: answer.status, type: answer.headers.get('content-type'), body: await answer.json() };
  });
  check(refused.status === 403 && refused.type === 'application/problem+json',
        'the API refused the auditor: ' + JSON.stringify(refused));
  console.log('--- an auditor is refused by the page and by the API: ' + refused.body.detail);
  await accessible(asAuditor.page, 'approvals-auditor');
  await openDevice(asAuditor.page, 'LOCK-1');
  await asAuditor.page.getByRole('button', { name: 'Quarantine', exact: true }).waitFor();
  check(await asAuditor.page.getByRole('button', { name: 'Quarantine', exact: true }).isDisabled(),
        'the quarantine button is disabled for an auditor');

  // The owner decommissions LOCK-3, which is gone: its membership ends and its LDevID is revoked.
  await openDevice(inventory, 'LOCK-3');
  await inventory.getByLabel('The device is gone (dead or lost)').check();
  await inventory.getByRole('button', { name: 'Decommission' }).click();
  await waitFor(async () => /LOCK-3|Refused/.test(await inventory.locator('#status').textContent()),
                'the decommission');
  const retired = await inventory.locator('#status').textContent();
  check(retired.includes('membership ended and certificates revoked'), 'decommission: ' + retired);
  check(/device\.decommissioned.*operator:alice/.test(run('audit', 'show', '--dir', 'home', '--device', 'LOCK-3')),
        'the decommission is not recorded as alice\'s');
  console.log('--- LOCK-3 decommissioned from its page');

  // Signing out ends the session.
  await inventory.getByRole('button', { name: 'Sign out' }).click();
  await inventory.getByText('Signed out.').waitFor();
  console.log('PASS: the dashboard end to end');
} catch (failure) {
  console.error('FAIL: ' + failure.message);
  for (const file of fs.readdirSync(work).filter((f) => f.endsWith('.log'))) {
    console.error(`--- ${file}:\n` + fs.readFileSync(path.join(work, file), 'utf8').slice(-2000));
  }
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null) resolve(); else child.on('exit', resolve);
  })));
  fs.rmSync(work, { recursive: true, force: true });
}
