// Webhook endpoints (create, toggle, delete; the secret shown once) and notifications with
// their delivery attempts, replay.
import { api, get, post, query } from '/dashboard/api.js';
import { h, field, select, badge, table, time, flash, showError, clearErrors, EVENT_NAMES } from '/dashboard/ui.js';

const BASE = '/api/v1/merchant/webhooks';
const refresh = () => window.dispatchEvent(new Event('acorn:refresh'));
// The secret of the endpoint just created, shown on the next render only.
let justCreated = null;

function createForm() {
  const form = h('form', { novalidate: true, 'aria-labelledby': 'wh-new' },
    h('h2', { id: 'wh-new' }, 'Register an endpoint'),
    h('div', { class: 'grid' },
      field('URL', h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/hooks' })),
      field('Description', h('input', { name: 'description' })),
      field('Event types (none selected = all)', h('select', { name: 'event_types', multiple: true, size: 4 },
        EVENT_NAMES.map((n) => h('option', { value: n }, n)))),
      h('button', { type: 'submit' }, 'Register endpoint')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const types = [...form.elements.event_types.selectedOptions].map((o) => o.value);
    try {
      const body = { url: form.elements.url.value.trim(), event_types: types.length ? types : null };
      if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
      justCreated = await post(BASE, body);
      refresh();
    } catch (e) { showError(e, form); }
  });
  return form;
}

function secretNotice() {
  if (!justCreated) return null;
  const e = justCreated;
  justCreated = null;
  return h('div', { role: 'alert', id: 'webhook-secret' },
    h('p', {}, `Endpoint ${e.id} registered. Its signing secret is shown this once; store it now:`),
    h('p', { class: 'secret' }, e.secret));
}

function endpointRow(e) {
  const act = (label, cls, run) => h('button', { type: 'button', class: cls, 'aria-label': `${label} ${e.url}`,
    onclick: async () => { try { await run(); refresh(); } catch (err) { showError(err); } } }, label);
  return h('tr', {}, h('td', {}, e.url), h('td', {}, e.description || ''),
    h('td', {}, badge(e.is_active ? 'active' : 'inactive')),
    h('td', {}, e.event_types ? e.event_types.join(', ') : 'all'),
    h('td', {}, h('div', { class: 'row' },
      act(e.is_active ? 'Disable' : 'Enable', 'secondary', () => api('PATCH', `${BASE}/${e.id}/toggle`)),
      act('Delete', 'danger', async () => {
        if (!window.confirm(`Delete the endpoint ${e.url}?`)) return;
        await api('DELETE', `${BASE}/${e.id}`);
        flash('Endpoint deleted');
      }))));
}

function attempts(n) {
  const list = Array.isArray(n.delivery_attempts) ? n.delivery_attempts : [];
  if (!list.length) return 'none yet';
  return h('details', {}, h('summary', {}, `${list.length} attempt${list.length === 1 ? '' : 's'}`),
    h('ul', {}, list.map((a) => h('li', {}, `${time(a.attempted_at)}: ${a.status_code ?? '—'} ${a.error || ''} (${a.duration_ms ?? '?'} ms)`))));
}

function notificationRow(n) {
  const replay = h('button', { type: 'button', class: 'secondary', 'aria-label': `Replay ${n.id}` }, 'Replay');
  replay.addEventListener('click', async () => {
    try { await post(`${BASE}/notifications/${n.id}/replay`); flash('Replay scheduled'); refresh(); } catch (e) { showError(e); }
  });
  return h('tr', { 'data-notification': n.event }, h('td', {}, time(n.created_at)), h('td', {}, n.event),
    h('td', {}, n.data && n.data.id ? h('a', { href: `#/customers/${n.data.id}` }, n.data.id) : '—'),
    h('td', {}, badge(n.status)), h('td', {}, attempts(n)), h('td', {}, replay));
}

function notificationFilter(current) {
  const form = h('form', { class: 'row', 'aria-label': 'Filter notifications' },
    field('Status', select('status', ['', 'pending', 'delivered', 'dead_lettered'], { id: 'n-status' })),
    h('button', { type: 'submit' }, 'Filter'));
  form.elements.status.value = current;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/webhooks${query({ status: form.elements.status.value })}`;
  });
  return form;
}

export async function webhooksPage() {
  const status = new URLSearchParams(location.hash.split('?')[1] || '').get('status') || '';
  const [endpoints, notes] = await Promise.all([get(BASE),
    get(`${BASE}/notifications${query({ limit: 50, status })}`)]);
  const list = Array.isArray(endpoints) ? endpoints : endpoints.webhook_list || endpoints.list || [];
  return h('div', {}, h('h1', {}, 'Webhooks'), secretNotice(),
    h('section', {}, createForm()),
    h('section', { 'aria-labelledby': 'wh-list' }, h('h2', { id: 'wh-list' }, 'Endpoints'),
      list.length ? table(['URL', 'Description', 'State', 'Events', ''], list.map(endpointRow)) : h('p', { class: 'muted' }, 'No endpoints.')),
    h('section', { 'aria-labelledby': 'wh-notes' }, h('h2', { id: 'wh-notes' }, `Notifications (${notes.count})`),
      notificationFilter(status),
      table(['When', 'Event', 'Customer', 'Status', 'Delivery attempts', ''], notes.notification_list.map(notificationRow))));
}
