// Time to first render of the dashboard's inventory in Debian's Chromium on a site of 100,000
// devices: from navigation to the first page of rows on screen, for a signed-in owner; and the
// same for a filtered page. Writes its figures as JSON on stdout.
// Usage: node bench/dashboard_render.mjs PATH_TO_CONCIERGE [DEVICES]
// Needs tests/e2e's node_modules (scripts/install-deps) and sqlite3 (to fill the site at once).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const binary = path.resolve(process.argv[2]);
const devices = Number(process.argv[3] || 100000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'concierge-render-'));
const run = (...args) => execFileSync(binary, args, { cwd: work, encoding: 'utf8' });

run('site', 'init', '--dir', 'home', '--name', 'Home');
const code = JSON.parse(run('operator', 'add', '--dir', 'home', '--name', 'bench', '--role', 'owner', '--json')).code;
// The registry's own table, filled in one statement: the benchmark measures reading, not onboarding.
execFileSync('sqlite3', [path.join(work, 'home/site.db'),
  `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${devices - 1})
   INSERT INTO registry_devices(name, serial, maker, owner, zone, updated_at)
   SELECT printf('DEV-%06d', i), printf('DEV-%06d', i), 'Acme', 'Home', 'floor-' || (i % 20), 1 FROM n;`]);
const server = spawn(binary, ['serve', '--dir', 'home', '--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0',
  '--firewall', 'dry-run'],
                     { cwd: work, stdio: 'ignore' });
try {
  for (let i = 0; i < 100 && !fs.existsSync(path.join(work, 'home/api.addr')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const base = 'https://' + fs.readFileSync(path.join(work, 'home/api.addr'), 'utf8').trim() + '/';
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel('One-time code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#device-rows tr').first().waitFor();
  const measure = async (hash) => {
    const times = [];
    for (let i = 0; i < 10; i++) {
      await page.goto('about:blank');
      const start = Date.now();
      await page.goto(base + hash);
      await page.locator('#device-rows tr').nth(9).waitFor();
      times.push(Date.now() - start);
    }
    times.sort((a, b) => a - b);
    return { median_ms: times[5], max_ms: times[9] };
  };
  const inventory = await measure('#/devices');
  const filtered = await measure('#/devices?zone=floor-7&q=DEV-01');
  console.log(JSON.stringify({ devices, first_render: inventory, filtered_render: filtered }));
  await browser.close();
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
  fs.rmSync(work, { recursive: true, force: true });
}
