// One customer: profile (sensitive fields masked), derived status and its history,
// registrations, files, balances and sync attempts. The read-only parts refresh every 2 s.
import { get, query } from '/dashboard/api.js';
import { h, badge, table, time, showError } from '/dashboard/ui.js';
import { actions, sandboxButtons } from '/dashboard/actions.js';

const SENSITIVE = ['document_number', 'owner_document_number', 'tax_id', 'dob', 'mother_name'];
const PROFILE = ['email', 'first_name', 'last_name', 'company_name', 'document_type', 'document_number',
  'dob', 'gender', 'country_code', 'phone_country_code', 'phone_area_code', 'phone_number',
  'street_name', 'street_number', 'house_number', 'neighborhood', 'postal_code', 'city', 'state',
  'subdivision', 'mother_name', 'social_name', 'tax_id', 'owner_legal_name', 'owner_document_number',
  'owner_document_type', 'company_start_date', 'monthly_net_income', 'customer_wallet',
  'trading_wallet', 'account_type', 'synced', 'synced_at', 'version', 'created_at', 'updated_at'];

const dots = (text) => '•'.repeat(Math.min(text.length, 10));

function masked(name, value) {
  const text = String(value);
  const out = h('span', { class: 'masked', 'data-field': name }, dots(text));
  const button = h('button', { type: 'button', class: 'secondary', 'aria-label': `Reveal ${name}`, 'aria-pressed': 'false' }, 'Reveal');
  button.addEventListener('click', () => {
    const shown = button.getAttribute('aria-pressed') === 'true';
    out.textContent = shown ? dots(text) : text;
    button.textContent = shown ? 'Reveal' : 'Hide';
    button.setAttribute('aria-pressed', String(!shown));
  });
  return [out, ' ', button];
}

function profile(c) {
  const items = PROFILE.filter((k) => c[k] !== null && c[k] !== undefined).flatMap((k) => [
    h('dt', {}, k), h('dd', {}, SENSITIVE.includes(k) ? masked(k, c[k]) : String(c[k]))]);
  if (c.additional_info) {
    items.push(h('dt', {}, 'additional_info'), h('dd', {}, h('pre', {}, JSON.stringify(c.additional_info, null, 1))));
  }
  return h('section', { 'aria-labelledby': 'profile-title' },
    h('h2', { id: 'profile-title' }, 'Profile'), h('dl', {}, items));
}

// The customer's events, newest first: a few pages of the merchant's log, kept to this customer
// (the events API filters by event name, not by customer).
async function history(id) {
  const out = [];
  let after = '';
  for (let i = 0; i < 5; i += 1) {
    const page = await get(`/api/v1/events${query({ limit: 100, starting_after: after })}`);
    for (const e of page.event_list) if (e.data && e.data.id === id) out.push(e);
    if (!page.has_more || !page.event_list.length) break;
    after = page.event_list[page.event_list.length - 1].id;
  }
  return out;
}

function statusSection(c, events) {
  const changes = events.filter((e) => e.event.startsWith('customer.') && !e.event.startsWith('customer.sync') && e.data.status);
  const rows = changes.map((e) => h('tr', {}, h('td', {}, time(e.created_at)), h('td', {}, e.event),
    h('td', {}, badge(String(e.data.status).toUpperCase()))));
  const regRows = events.filter((e) => e.event.startsWith('provider_registration.')).map((e) => h('tr', {},
    h('td', {}, time(e.created_at)), h('td', {}, e.event), h('td', {}, `${e.data.provider}/${e.data.target_role}`)));
  return h('section', { id: 'status', 'aria-labelledby': 'status-title' },
    h('h2', { id: 'status-title' }, 'Status ', h('span', { id: 'customer-status' }, badge(c.status))),
    table(['When', 'Event', 'Customer status'], rows, 'Status history (from events)'),
    regRows.length ? table(['When', 'Event', 'Registration'], regRows, 'Registration events') : null);
}

function registrations(c, regs) {
  const rows = regs.map((r) => h('tr', { 'data-registration': `${r.provider}/${r.target_role}` },
    h('td', {}, r.provider), h('td', {}, r.target_role), h('td', {}, badge(r.status)),
    h('td', {}, r.documents), h('td', {}, r.manual_review ? 'yes' : 'no'),
    h('td', {}, (r.missing_fields || []).join(', ') || '—'),
    h('td', {}, r.rejection_reason || (r.failure_reasons ? JSON.stringify(r.failure_reasons) : '—')),
    h('td', {}, sandboxButtons(c.id, r))));
  return h('section', { id: 'registrations', 'aria-labelledby': 'regs-title' },
    h('h2', { id: 'regs-title' }, 'Registrations'),
    regs.length
      ? table(['Provider', 'Role', 'Status', 'Documents', 'Manual review', 'Missing fields', 'Reason', 'Sandbox'], rows)
      : h('p', { class: 'muted' }, 'No registrations yet: submit or populate one below.'));
}

// Fetches the file through its signed link and shows it from a blob: URL (the link itself
// answers as an attachment).
async function preview(f, box) {
  const res = await fetch(f.url);
  if (!res.ok) throw new Error(`download failed: HTTP ${res.status}`);
  const url = URL.createObjectURL(new Blob([await res.blob()], { type: f.content_type }));
  box.replaceChildren(f.content_type === 'application/pdf'
    ? h('iframe', { src: url, title: `Preview of ${f.name}` })
    : h('img', { src: url, alt: `Preview of ${f.name}` }));
}

function files(list) {
  const rows = list.map((f) => {
    const box = h('div', { class: 'preview' });
    const button = h('button', { type: 'button', class: 'secondary', 'aria-label': `Preview ${f.name}` }, 'Preview');
    button.addEventListener('click', () => preview(f, box).catch((e) => showError(e)));
    return h('tr', {}, h('td', {}, f.name), h('td', {}, f.file_type), h('td', {}, f.content_type),
      h('td', {}, `${f.size} B`), h('td', {}, time(f.created_at)),
      h('td', {}, h('a', { href: f.url, download: f.name, 'aria-label': `Download ${f.name}` }, 'Download'), ' ', button, box));
  });
  return h('section', { id: 'files', 'aria-labelledby': 'files-title' }, h('h2', { id: 'files-title' }, 'KYC files'),
    list.length ? table(['Name', 'Type', 'Content type', 'Size', 'Uploaded', ''], rows) : h('p', { class: 'muted' }, 'No files.'));
}

function balances(b) {
  const rows = b.balances.flatMap((e) => (e.totals.length ? e.totals : [null]).map((t) => h('tr', {},
    h('td', {}, e.provider), h('td', {}, e.customer.role), h('td', {}, e.account_id || '—'),
    h('td', {}, t ? t.currency : '—'), h('td', {}, t ? t.available : 0), h('td', {}, t ? t.pending : 0),
    h('td', {}, t ? t.reserved : 0), h('td', {}, t ? t.instant_payouts : 0))));
  return h('section', { id: 'balances', 'aria-labelledby': 'bal-title' }, h('h2', { id: 'bal-title' }, 'Balances (minor units)'),
    rows.length ? table(['Provider', 'Role', 'Account', 'Currency', 'Available', 'Pending', 'Reserved', 'Instant payouts'], rows)
      : h('p', { class: 'muted' }, 'No provider accounts.'));
}

function syncs(list) {
  const rows = list.map((a) => h('tr', {}, h('td', {}, time(a.created_at)), h('td', {}, a.provider),
    h('td', {}, a.fields.join(', ')), h('td', {}, badge(a.status)), h('td', {}, `${a.attempts}/${a.max_attempts}`),
    h('td', {}, a.last_error || '—')));
  return h('section', { id: 'sync-attempts', 'aria-labelledby': 'sync-title' }, h('h2', { id: 'sync-title' }, 'Sync attempts'),
    rows.length ? table(['When', 'Provider', 'Fields', 'Status', 'Tries', 'Last error'], rows) : h('p', { class: 'muted' }, 'No syncs.'));
}

async function live(id) {
  const path = `/api/v1/customers/${encodeURIComponent(id)}`;
  const [c, regs, events, fileList, bal, attempts] = await Promise.all([get(path),
    get(`/api/v1/provider-registration/${encodeURIComponent(id)}/status`), history(id),
    get(`${path}/files`), get(`${path}/balances`), get(`${path}/sync-attempts`)]);
  return { c, parts: [statusSection(c, events), registrations(c, regs), files(fileList), balances(bal), syncs(attempts)] };
}

// The signed links change on every fetch; compare the parts without them.
const signature = (parts) => JSON.stringify(parts.map((p) => p.textContent));

export async function customerPage(id, onLeave) {
  const { c, parts } = await live(id);
  const holder = h('div', {}, parts);
  const view = h('div', {},
    h('div', { class: 'row' }, h('h1', {}, c.email), h('a', { href: `#/customers/${c.id}/edit` }, 'Edit'),
      h('a', { href: '#/customers' }, 'All customers')),
    profile(c), holder, actions(c));
  let last = signature(parts);
  const refresh = async () => {
    try {
      const next = await live(id);
      const sig = signature(next.parts);
      if (sig !== last) { last = sig; holder.replaceChildren(...next.parts); }
    } catch (e) { /* the next tick retries */ }
  };
  const timer = setInterval(refresh, 2000);
  // Actions and sandbox buttons announce a change; show it at once rather than on the next tick.
  window.addEventListener('acorn:customer-changed', refresh);
  onLeave(() => { clearInterval(timer); window.removeEventListener('acorn:customer-changed', refresh); });
  return view;
}
