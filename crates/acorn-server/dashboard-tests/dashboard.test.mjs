// The dashboard in a real browser: headless Chromium against the `acorn serve` run.sh started.
// The steps build on each other (one merchant, one browser page), in the order a developer
// would walk a customer through KYC by hand.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = process.env.ACORN_URL;
const ID = process.env.ACORN_CLIENT_ID;
const SECRET = process.env.ACORN_CLIENT_SECRET;
const SHOTS = process.env.SCREENSHOT_DIR;
const PROFILE = process.env.CHROME_PROFILE || mkdtempSync(join(tmpdir(), 'acorn-chromium-'));
const TIMEOUT = 15000;
// A 2×2 PNG: enough for the server's content sniffing and for a preview.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGNgYPj/n4GB4f9/BgYGBgAh+gP9Rj3NIwAAAABJRU5ErkJggg==', 'base64');

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj '
  + '3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

function assert(ok, message) { if (!ok) throw new Error(message); }

// A webhook receiver on a loopback port: it acknowledges every delivery and keeps the bodies.
function receiver() {
  const got = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push({ headers: req.headers, body }); res.writeHead(200).end('ok'); });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, got, url: `http://127.0.0.1:${server.address().port}/hooks` })));
}

async function apiToken(id = ID, secret = SECRET) {
  const res = await fetch(`${BASE}/api/v1/merchant/token/grant`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: id, client_secret: secret, grant_type: 'client_credentials' }) });
  return (await res.json()).access_token;
}

async function apiCreate(token, body) {
  const res = await fetch(`${BASE}/api/v1/customers`, { method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  assert(res.ok, `create via API: HTTP ${res.status}`);
  return (await res.json()).data;
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

async function main() {
  // A fresh profile directory (Playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(PROFILE, { executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const external = [];
  const consoleErrors = [];
  // Network requests only: the browser's own PDF viewer loads chrome:// and chrome-extension:// files.
  context.on('request', (r) => { const u = r.url(); if (/^(https?|wss?|ftp):/i.test(u) && !u.startsWith(`${BASE}/`)) external.push(u); });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const hooks = await receiver();
  const state = { hooks };
  const results = [];
  for (const [name, run] of steps) {
    try {
      await run(page, state);
      results.push(true);
      console.log(`ok   ${name}`);
    } catch (e) {
      results.push(false);
      console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
      await page.screenshot({ path: join(SHOTS, `failure-${results.length}.png`) }).catch(() => {});
    }
  }
  const extra = [['made no request outside Acorn, logged no script error', async () => {
    assert(external.length === 0, `external requests: ${external.join(', ')}`);
    assert(consoleErrors.filter((t) => !/status of 4\d\d/.test(t)).length === 0, `console errors: ${consoleErrors.join(' | ')}`);
  }]];
  for (const [name, run] of extra) {
    try { await run(); results.push(true); console.log(`ok   ${name}`); } catch (e) { results.push(false); console.log(`FAIL ${name}: ${e.message}`); }
  }
  await context.close();
  hooks.server.close();
  const passed = results.filter(Boolean).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

const steps = [
  ['the page is served with a strict Content-Security-Policy', async (page) => {
    const res = await page.goto(`${BASE}/dashboard`);
    assert(res.status() === 200, `status ${res.status()}`);
    const csp = res.headers()['content-security-policy'] || '';
    assert(csp.includes("default-src 'none'") && csp.includes("script-src 'self'"), `CSP: ${csp}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  }],
  ['a wrong secret is refused with the API message', async (page) => {
    await page.getByLabel('Client id').fill(ID);
    await page.getByLabel('Client secret').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#flash').getByText('invalid client credentials').waitFor();
    assert(!(await page.locator('#nav').isVisible()), 'the navigation is hidden until signed in');
    await shot(page, 'sign-in');
  }],
  ['signs in with client id and secret', async (page) => {
    await page.getByLabel('Client secret').fill(SECRET);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.cookie);
    assert(!stored.includes('eyJ'), 'the token must not be stored in web storage or cookies');
  }],
  ['creating a customer shows the API validation messages on the fields', async (page) => {
    await page.getByRole('link', { name: 'New customer' }).click();
    await page.getByLabel('Email', { exact: true }).fill('not-an-email');
    await page.getByLabel('Country code (ISO 2)').fill('zz');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.locator('#c-email[aria-invalid="true"]').waitFor();
    await page.locator('#c-country_code[aria-invalid="true"]').waitFor();
  }],
  ['creates a customer', async (page, s) => {
    await page.getByLabel('Email', { exact: true }).fill('ana+review@example.com');
    await page.getByLabel('First name').fill('Ana');
    await page.getByLabel('Last name').fill('Silva');
    await page.getByLabel('Country code (ISO 2)').fill('us');
    await page.getByLabel('Document type', { exact: true }).selectOption('ssn');
    await page.getByLabel('Document number', { exact: true }).fill('123456789');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.getByRole('heading', { name: 'ana+review@example.com' }).waitFor();
    s.customerUrl = page.url();
    s.customerId = s.customerUrl.split('/').pop();
    const masked = await page.locator('[data-field="document_number"]').textContent();
    assert(!masked.includes('123456789'), 'document_number must be masked');
    await page.getByRole('button', { name: 'Reveal document_number' }).click();
    await page.locator('[data-field="document_number"]').getByText('123456789').waitFor();
  }],
  ['edits a customer', async (page) => {
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('City').fill('Austin');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'ana+review@example.com' }).waitFor();
    await page.locator('dd', { hasText: 'Austin' }).waitFor();
  }],
  ['filters the list (exact count, email search, status and country)', async (page) => {
    const token = await apiToken();
    await apiCreate(token, { email: 'bruno@example.com', country_code: 'br', first_name: 'Bruno' });
    await apiCreate(token, { email: 'carla@example.com', country_code: 'br' });
    await page.goto(`${BASE}/dashboard#/customers`);
    await page.locator('#customer-count', { hasText: '3 customers match' }).waitFor();
    await page.getByLabel('Country code').fill('br');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#customer-count', { hasText: '2 customers match' }).waitFor();
    await page.getByLabel('Country code').fill('');
    await page.getByLabel('Email (comma-separated, exact)').fill('ANA+review@example.com');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#customer-count', { hasText: '1 customer match' }).waitFor();
    await page.getByRole('link', { name: 'ana+review@example.com' }).waitFor();
    await page.getByLabel('Email (comma-separated, exact)').fill('');
    await page.getByLabel('Page size').fill('2');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByRole('link', { name: 'ana+review@example.com' }).waitFor();
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.getByRole('link', { name: 'carla@example.com' }).waitFor();
    await page.getByLabel('Page size').fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#customer-count', { hasText: '3 customers match' }).waitFor();
    await shot(page, 'customers');
  }],
  ['submits a registration, approves it with the sandbox button, and the status follows', async (page, s) => {
    await page.goto(s.customerUrl);
    await page.locator('#submit-provider').selectOption('stripe');
    await page.locator('#submit-role').selectOption('customer');
    await page.getByRole('button', { name: 'Submit registration' }).click();
    // ana+review: the sandbox stops in processing with the manual-review flag.
    await page.locator('#customer-status', { hasText: 'IN_REVIEW' }).waitFor();
    await page.getByRole('button', { name: 'Approve stripe customer' }).click();
    await page.locator('#customer-status', { hasText: 'APPROVED' }).waitFor();
    await page.locator('#status td', { hasText: 'customer.verified' }).first().waitFor();
  }],
  ['uploads files, previews an image and a PDF, downloads one', async (page) => {
    await page.locator('#upload-type').selectOption('PASSPORT');
    await page.locator('input[type="file"]').setInputFiles({ name: 'passport.png', mimeType: 'image/png', buffer: PNG });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#files td', { hasText: 'passport.png' }).waitFor();
    await page.getByRole('button', { name: 'Preview passport.png' }).click();
    await page.getByRole('img', { name: 'Preview of passport.png' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download passport.png' }).click()]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    assert(Buffer.compare(readFileSync(path), PNG) === 0, 'the downloaded bytes differ from the upload');
    await page.locator('#upload-type').selectOption('ADDRESS_PROOF');
    await page.locator('input[type="file"]').setInputFiles({ name: 'proof.pdf', mimeType: 'application/pdf', buffer: PDF });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('button', { name: 'Preview proof.pdf' }).click();
    await page.locator('iframe[title="Preview of proof.pdf"]').waitFor();
  }],
  ['schedules a sync and shows the attempt', async (page) => {
    await page.locator('#sync-provider').selectOption('stripe');
    await page.getByRole('button', { name: 'Sync', exact: true }).click();
    await page.locator('#flash', { hasText: 'Sync scheduled' }).waitFor();
    await page.locator('#sync-attempts td', { hasText: 'stripe' }).first().waitFor();
  }],
  ['adds a ledger entry and shows the balance', async (page) => {
    await page.locator('#ledger-provider').selectOption('stripe');
    await page.locator('#ledger-role').selectOption('customer');
    await page.getByLabel('Amount (minor units)').fill('1250');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.locator('#balances td', { hasText: '1250' }).waitFor();
    await page.getByRole('heading', { name: 'ana+review@example.com' }).scrollIntoViewIfNeeded();
    await shot(page, 'customer');
    await page.locator('#registrations').evaluate((e) => e.scrollIntoView());
    await shot(page, 'customer-kyc');
  }],
  ['the events feed shows the new event and filters by name', async (page) => {
    await page.getByRole('link', { name: 'Events' }).click();
    await page.locator('tr[data-event="customer.verified"]').first().waitFor();
    await page.getByLabel('Event names (none selected = all)').selectOption('customer.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('tr[data-event="customer.created"]').first().waitFor();
    const others = await page.locator('tbody tr:not([data-event="customer.created"])').count();
    assert(others === 0, `${others} rows of other events after filtering`);
    await page.getByLabel('Event names (none selected = all)').selectOption([]);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('tr[data-event="customer.verified"]').first().waitFor();
    await shot(page, 'events');
  }],
  ['registers a webhook (secret shown once) and sees a notification delivered', async (page, s) => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('URL').fill(s.hooks.url);
    await page.getByLabel('Description').fill('local receiver');
    await page.getByRole('button', { name: 'Register endpoint' }).click();
    await page.locator('#webhook-secret .secret').waitFor();
    const token = await apiToken();
    await apiCreate(token, { email: 'dora@example.com' });
    for (let i = 0; i < 50 && !(await page.locator('tr[data-notification="customer.created"] .badge.delivered').count()); i += 1) {
      await page.waitForTimeout(300);
      await page.evaluate(() => window.dispatchEvent(new Event('acorn:refresh')));
    }
    await page.locator('tr[data-notification="customer.created"] .badge.delivered').first().waitFor();
    assert(s.hooks.got.some((d) => d.body.includes('dora@example.com') || d.body.includes('customer.created')), 'the receiver got no delivery');
    assert(!(await page.locator('#webhook-secret').count()), 'the secret must be shown only once');
    await page.getByRole('button', { name: 'Replay' }).first().click();
    await page.locator('#flash', { hasText: 'Replay scheduled' }).waitFor();
    await page.getByRole('button', { name: `Disable ${s.hooks.url}` }).click();
    await page.locator('td .badge.inactive').waitFor();
    await shot(page, 'webhooks');
  }],
  ['is usable on a phone-sized screen', async (page) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Customers', exact: true }).click();
    await page.locator('#customer-count').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
    await shot(page, 'customers-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
  }],
  ['signing out forgets the token', async (page) => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert(!(await page.locator('#nav').isVisible()), 'the navigation is hidden once signed out');
    await page.goto(`${BASE}/dashboard#/customers`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  }],
  ['a live merchant sees no sandbox helper', async (page) => {
    const [liveId, liveSecret] = [process.env.ACORN_LIVE_CLIENT_ID, process.env.ACORN_LIVE_CLIENT_SECRET];
    assert(liveId && liveSecret, 'run.sh creates a live merchant');
    const customer = await apiCreate(await apiToken(liveId, liveSecret), { email: 'live@example.com' });
    assert(customer.livemode === true, 'the API says the customer is live');
    await page.getByLabel('Client id').fill(liveId);
    await page.getByLabel('Client secret').fill(liveSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    await page.evaluate((id) => { location.hash = `#/customers/${id}`; }, customer.id);
    await page.getByRole('heading', { name: 'live@example.com' }).waitFor();
    await page.getByRole('button', { name: 'Submit registration' }).first().waitFor();
    assert(await page.getByText('Sandbox: add a ledger entry').count() === 0, 'no ledger helper for a live merchant');
    assert(await page.getByRole('button', { name: 'Add entry' }).count() === 0, 'no ledger button');
    await page.getByRole('button', { name: 'Sign out' }).click();
  }],
];

main().catch((e) => { console.log(`FAIL harness: ${e.message}`); console.log('0 passed, 1 failed'); process.exit(1); });
