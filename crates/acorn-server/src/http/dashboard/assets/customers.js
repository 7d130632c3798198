// The customers list (every filter of the API, exact count, cursor paging) and the
// create / edit form.
import { get, api, query } from '/dashboard/api.js';
import { h, field, select, badge, table, showError, flash, clearErrors,
  PROVIDERS, ROLES, REG_STATUSES, STATUSES, DOC_TYPES } from '/dashboard/ui.js';

const FILTERS = ['email', 'status', 'country_code', 'document_type', 'provider', 'target_role',
  'provider_registration_status', 'limit', 'starting_after', 'ending_before'];

function filterForm(params) {
  const opt = (name, values) => select(name, ['', ...values], { id: `f-${name}` });
  const form = h('form', { class: 'grid', role: 'search', 'aria-label': 'Filter customers' },
    field('Email (comma-separated, exact)', h('input', { name: 'email', type: 'search' })),
    field('Status', opt('status', STATUSES)),
    field('Country code', h('input', { name: 'country_code', placeholder: 'us,br' })),
    field('Document type', opt('document_type', DOC_TYPES)),
    field('Provider', opt('provider', PROVIDERS)),
    field('Target role', opt('target_role', ROLES)),
    field('Registration status', opt('provider_registration_status', REG_STATUSES)),
    field('Page size', h('input', { name: 'limit', type: 'number', min: 1, max: 100, placeholder: '10' })),
    h('button', { type: 'submit' }, 'Apply filters'));
  for (const name of FILTERS) if (form.elements[name] && params.get(name)) form.elements[name].value = params.get(name);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = {};
    for (const name of FILTERS) if (form.elements[name]) p[name] = form.elements[name].value.trim();
    location.hash = `#/customers${query(p)}`;
  });
  return form;
}

function row(c) {
  const regs = (c.platforms || []).map((p) => `${p.provider}/${p.target_role}: ${p.status}`).join(', ');
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ') || c.company_name || '';
  return h('tr', {},
    h('td', {}, h('a', { href: `#/customers/${c.id}` }, c.email)),
    h('td', {}, name),
    h('td', {}, badge(c.status)),
    h('td', {}, c.country_code || ''),
    h('td', {}, regs || '—'),
    h('td', {}, new Date(c.created_at).toLocaleString()));
}

export async function customersPage(params) {
  const p = {};
  for (const name of FILTERS) p[name] = params.get(name) || '';
  let data;
  let error = null;
  try { data = await get(`/api/v1/customers${query(p)}`); } catch (e) { error = e; data = { count: 0, customer_list: [], has_more: false }; }
  const list = data.customer_list;
  const base = { ...p, starting_after: '', ending_before: '' };
  const backwards = Boolean(p.ending_before);
  const hasNext = backwards ? list.length > 0 : data.has_more;
  const hasPrev = backwards ? data.has_more : Boolean(p.starting_after);
  const go = (extra) => () => { location.hash = `#/customers${query({ ...base, ...extra })}`; };
  const view = h('div', {},
    h('div', { class: 'row' }, h('h1', {}, 'Customers'),
      h('a', { href: '#/customers/new', class: 'button' }, 'New customer')),
    h('section', {}, filterForm(params)),
    h('section', {},
      h('p', { id: 'customer-count', 'aria-live': 'polite' }, `${data.count} customer${data.count === 1 ? '' : 's'} match`),
      table(['Email', 'Name', 'Status', 'Country', 'Registrations', 'Created'], list.map(row)),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', disabled: !hasPrev || !list.length, onclick: go({ ending_before: list.length ? list[0].id : '' }) }, '← Newer'),
        h('button', { type: 'button', class: 'secondary', disabled: !hasNext || !list.length, onclick: go({ starting_after: list.length ? list[list.length - 1].id : '' }) }, 'Older →'))));
  if (error) showError(error, view.querySelector('form'));
  return view;
}

// [name, label, kind]: kind is a list of options, 'date', 'number' or text.
const FIELDS = [
  ['email', 'Email', 'email'], ['first_name', 'First name'], ['last_name', 'Last name'],
  ['company_name', 'Company name'], ['document_type', 'Document type', ['', ...DOC_TYPES]],
  ['document_number', 'Document number'], ['dob', 'Date of birth', 'date'],
  ['gender', 'Gender', ['', 'male', 'female', 'other']], ['country_code', 'Country code (ISO 2)'],
  ['phone_country_code', 'Phone country code'], ['phone_area_code', 'Phone area code'],
  ['phone_number', 'Phone number'], ['street_name', 'Street name'], ['street_number', 'Street number'],
  ['house_number', 'House number'], ['neighborhood', 'Neighborhood'], ['postal_code', 'Postal code'],
  ['city', 'City'], ['state', 'State'], ['subdivision', 'Subdivision'], ['mother_name', 'Mother\'s name'],
  ['social_name', 'Social name'], ['tax_id', 'Tax id'], ['owner_legal_name', 'Owner legal name'],
  ['owner_document_number', 'Owner document number'], ['owner_document_type', 'Owner document type'],
  ['company_start_date', 'Company start date', 'date'], ['monthly_net_income', 'Monthly net income', 'number'],
];

function input(name, kind) {
  if (Array.isArray(kind)) return select(name, kind, { id: `c-${name}` });
  const type = kind === 'email' || kind === 'date' || kind === 'number' ? kind : 'text';
  return h('input', { name, id: `c-${name}`, type, step: type === 'number' ? 'any' : null });
}

// What to send: on create every non-empty field; on edit only the changed ones (emptied = null).
function changes(form, before) {
  const out = {};
  for (const [name, , kind] of FIELDS) {
    const raw = form.elements[name].value.trim();
    const value = raw === '' ? null : kind === 'number' ? Number(raw) : raw;
    if (!before) { if (value !== null) out[name] = value; continue; }
    const old = before[name] === undefined ? null : before[name];
    if (String(old ?? '') !== String(value ?? '')) out[name] = value;
  }
  return out;
}

export async function customerForm(id) {
  const before = id ? await get(`/api/v1/customers/${encodeURIComponent(id)}`) : null;
  const form = h('form', { novalidate: true, 'aria-labelledby': 'form-title' },
    h('h1', { id: 'form-title' }, before ? `Edit ${before.email}` : 'New customer'),
    h('div', { class: 'grid' }, FIELDS.map(([name, label, kind]) => field(label, input(name, kind)))),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, before ? 'Save changes' : 'Create customer'),
      h('a', { href: before ? `#/customers/${before.id}` : '#/customers' }, 'Cancel')));
  if (before) for (const [name] of FIELDS) if (before[name] !== null && before[name] !== undefined) form.elements[name].value = before[name];
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const body = changes(form, before);
      const saved = before
        ? await api('PUT', `/api/v1/customers/${encodeURIComponent(before.id)}`, body)
        : await api('POST', '/api/v1/customers', body);
      flash(before ? 'Customer saved' : 'Customer created');
      location.hash = `#/customers/${saved.id}`;
    } catch (e) { showError(e, form); }
  });
  return h('section', {}, form);
}
