// The events feed: the newest events, polled every 2 s, filtered by event name (server side)
// and by customer id (in the page: the API has no customer filter).
import { get, query } from '/dashboard/api.js';
import { h, field, table, time, showError, EVENT_NAMES } from '/dashboard/ui.js';

function row(e) {
  const d = e.data || {};
  const details = h('details', {}, h('summary', {}, 'data'), h('pre', {}, JSON.stringify(d, null, 1)));
  return h('tr', { 'data-event': e.event }, h('td', {}, time(e.created_at)), h('td', {}, e.event),
    h('td', {}, e.category), h('td', {}, d.id ? h('a', { href: `#/customers/${d.id}` }, d.id) : '—'),
    h('td', {}, d.status || ''), h('td', {}, details));
}

export async function eventsPage(params, onLeave) {
  const names = h('select', { name: 'event', multiple: true, size: 5, id: 'events-filter' },
    EVENT_NAMES.map((n) => h('option', { value: n, selected: (params.get('event') || '').split(',').includes(n) }, n)));
  const customer = h('input', { name: 'customer', value: params.get('customer') || '', placeholder: 'cus_…' });
  const paused = h('input', { type: 'checkbox', name: 'paused' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
  const body = h('div', {});
  const form = h('form', { class: 'grid', 'aria-label': 'Filter events' },
    field('Event names (none selected = all)', names), field('Customer id', customer),
    h('label', { class: 'row' }, paused, 'Pause live updates'),
    h('button', { type: 'submit' }, 'Apply filters'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const event = [...names.selectedOptions].map((o) => o.value).join(',');
    location.hash = `#/events${query({ event, customer: customer.value.trim() })}`;
  });
  const load = async () => {
    if (paused.checked) return;
    try {
      const page = await get(`/api/v1/events${query({ limit: 100, event: params.get('event') })}`);
      const want = params.get('customer');
      const list = page.event_list.filter((e) => !want || (e.data && e.data.id === want));
      body.replaceChildren(table(['When', 'Event', 'Category', 'Customer', 'Status', ''], list.map(row)));
      status.textContent = `${list.length} most recent event${list.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
    } catch (e) { showError(e, form); }
  };
  await load();
  const timer = setInterval(load, 2000);
  onLeave(() => clearInterval(timer));
  return h('div', {}, h('h1', {}, 'Events'), h('section', {}, form), h('section', {}, status, body));
}
