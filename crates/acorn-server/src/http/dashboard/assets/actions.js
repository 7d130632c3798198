// What a merchant (and, for a sandbox merchant, a developer) can do to one customer: submit a
// registration, populate, sync, upload files, and the sandbox helpers (never shown to a live
// merchant: its sandbox routes answer 404).
import { post, isLive } from '/dashboard/api.js';
import { h, field, select, flash, showError, clearErrors, PROVIDERS, ROLES } from '/dashboard/ui.js';

const changed = () => window.dispatchEvent(new Event('acorn:customer-changed'));
const SYNC_PROVIDERS = ['stripe', 'bridge', 'pagar_me', 'brla', 'avenia', 'mercado_pago'];
const SYNC_FIELDS = ['email', 'first_name', 'last_name', 'phone', 'shipping'];
const FILE_TYPES = ['PASSPORT', 'ADDRESS_PROOF', 'CPF_DOCUMENT', 'SSN_FRONT', 'SSN_BACK'];

// A JSON object typed in a textarea; empty means none.
function jsonObject(form, name) {
  const text = form.elements[name].value.trim();
  if (!text) return undefined;
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch (e) { /* reported below */ }
  const err = new Error(`${name} must be a JSON object`);
  err.reasons = [{ message: `${name} must be a JSON object`, fields: [name] }];
  throw err;
}

// A form whose submit runs `send(form)` and reports `done` or the API's reasons on the fields.
function actionForm(title, id, children, label, send, done) {
  const form = h('form', { 'aria-labelledby': id, novalidate: true },
    h('h2', { id }, title), h('div', { class: 'grid' }, children, h('button', { type: 'submit' }, label)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try { await send(form); flash(done); changed(); } catch (e) { showError(e, form); } finally { button.disabled = false; }
  });
  return h('section', {}, form);
}

function submitForm(c) {
  const base = `/api/v1/provider-registration/${encodeURIComponent(c.id)}/submit`;
  return actionForm('Submit a registration', 'submit-title', [
    field('Provider', select('provider', PROVIDERS, { id: 'submit-provider' })),
    field('Target role', select('target_role', ROLES, { id: 'submit-role' })),
    field('Provider data (JSON object, optional)', h('textarea', { name: 'provider_data', rows: 2, placeholder: '{"account_type": "express"}' })),
  ], 'Submit registration', (form) => post(base, {
    provider: form.elements.provider.value, target_role: form.elements.target_role.value,
    provider_data: jsonObject(form, 'provider_data'),
  }), 'Registration submitted');
}

function populateForm(c) {
  return actionForm('Populate a platform', 'populate-title', [
    field('Provider', select('provider', PROVIDERS, { id: 'populate-provider' })),
    field('Target role', select('target_role', ROLES, { id: 'populate-role' })),
    field('Extra provider data (JSON object, optional)', h('textarea', { name: 'extra', rows: 2 })),
  ], 'Populate', (form) => post(`/api/v1/customers/${encodeURIComponent(c.id)}/platforms`, {
    ...(jsonObject(form, 'extra') || {}),
    provider: form.elements.provider.value, target_role: form.elements.target_role.value,
  }), 'Platform populated');
}

function syncForm(c) {
  const boxes = SYNC_FIELDS.map((f) => h('label', { class: 'row' },
    h('input', { type: 'checkbox', name: 'fields', value: f, checked: f === 'email' }), f));
  return actionForm('Sync to a provider', 'sync-title', [
    field('Provider', select('providers', SYNC_PROVIDERS, { id: 'sync-provider' })),
    h('fieldset', {}, h('legend', {}, 'Fields'), boxes),
  ], 'Sync', (form) => post(`/api/v1/customers/${encodeURIComponent(c.id)}/sync`, {
    providers: [form.elements.providers.value],
    fields: [...form.querySelectorAll('input[name="fields"]:checked')].map((b) => b.value),
  }), 'Sync scheduled');
}

function uploadForm(c) {
  return actionForm('Upload KYC files', 'upload-title', [
    field('File type', select('file_type', FILE_TYPES, { id: 'upload-type' })),
    field('Files (PDF, JPEG or PNG, ≤ 5 MiB each)', h('input', { type: 'file', name: 'file', multiple: true, accept: 'application/pdf,image/jpeg,image/png' })),
  ], 'Upload', (form) => {
    const data = new FormData();
    data.append('file_type', form.elements.file_type.value);
    for (const f of form.elements.file.files) data.append('file', f, f.name);
    return post(`/api/v1/customers/${encodeURIComponent(c.id)}/files`, data);
  }, 'Files uploaded');
}

function ledgerForm(c) {
  return actionForm('Sandbox: add a ledger entry', 'ledger-title', [
    field('Provider', select('provider', PROVIDERS, { id: 'ledger-provider' })),
    field('Role', select('role', ROLES, { id: 'ledger-role' })),
    field('Currency', h('input', { name: 'currency', value: 'usd', maxlength: 3 })),
    field('Bucket', select('bucket', ['available', 'pending', 'reserved', 'instant_payouts'], { id: 'ledger-bucket' })),
    field('Amount (minor units)', h('input', { name: 'amount', type: 'number', step: 1, value: 1000 })),
  ], 'Add entry', (form) => post(`/api/v1/sandbox/customers/${encodeURIComponent(c.id)}/balances`, {
    provider: form.elements.provider.value, role: form.elements.role.value,
    currency: form.elements.currency.value.trim(), bucket: form.elements.bucket.value,
    amount: Number(form.elements.amount.value),
  }), 'Ledger entry added');
}

const SANDBOX = [
  ['Approve', { status: 'approved', documents: 'accepted', manual_review: false }],
  ['Reject', { status: 'rejected', rejection_reason: 'rejected from the dashboard' }],
  ['Ask for documents', { status: 'processing', documents: 'required' }],
  ['Put in review', { status: 'processing', manual_review: true }],
];

// The sandbox helper buttons for one registration (none for a live merchant).
export function sandboxButtons(customerId, r) {
  if (isLive()) return h('span', { class: 'muted' }, 'live');
  const path = `/api/v1/sandbox/customers/${encodeURIComponent(customerId)}/registrations/${r.provider}/${r.target_role}/status`;
  return h('div', { class: 'row' }, SANDBOX.map(([label, body]) => {
    const b = h('button', { type: 'button', class: 'secondary', 'aria-label': `${label} ${r.provider} ${r.target_role}` }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { await post(path, body); flash(`${label}: done`); changed(); } catch (e) { showError(e); } finally { b.disabled = false; }
    });
    return b;
  }));
}

export function actions(c) {
  const forms = [submitForm(c), populateForm(c), syncForm(c), uploadForm(c)];
  if (!isLive()) forms.push(ledgerForm(c));
  return h('div', {}, ...forms);
}
