// Small DOM helpers shared by the pages.

// h('tag', {attrs}, ...children): attributes starting with "on" are listeners.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function flash(message, bad = false) {
  flash.at = Date.now();
  const box = document.getElementById('flash');
  box.replaceChildren(h('p', { class: bad ? 'bad' : '' }, message));
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => box.replaceChildren(), 6000);
}

// Reports an API error: reasons naming fields go next to those fields in `form`, the rest to
// the flash line.
export function showError(err, form) {
  if (form) clearErrors(form);
  const loose = [];
  for (const r of err.reasons || []) {
    const fields = r.fields || [];
    let placed = false;
    for (const f of fields) {
      const input = form && form.querySelector(`[name="${CSS.escape(f)}"]`);
      if (!input) continue;
      input.setAttribute('aria-invalid', 'true');
      const note = h('span', { class: 'error', id: `err-${f}` }, r.message);
      input.setAttribute('aria-describedby', note.id);
      (input.closest('.field') || input.parentElement).append(note);
      placed = true;
    }
    if (!placed && r.message !== err.message && !loose.includes(r.message)) loose.push(r.message);
  }
  flash([err.message, ...loose].join(' — '), true);
}

// Clears the flash line unless it was just set (a message that led to this page stays).
export function clearFlash() {
  if (Date.now() - (flash.at || 0) > 1500) document.getElementById('flash').replaceChildren();
}

export function clearErrors(form) {
  form.querySelectorAll('.error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

// A labelled control (label and control tied by id); validation messages go below it, outside
// the label so they do not become part of the control's name, linked with aria-describedby.
let fieldCount = 0;
export function field(label, input) {
  if (!input.id) { fieldCount += 1; input.id = `field-${fieldCount}`; }
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

export function select(name, options, attrs = {}) {
  return h('select', { name, ...attrs }, options.map((o) => h('option', { value: o }, o === '' ? '—' : o)));
}

export const badge = (s) => h('span', { class: `badge ${s}` }, s);

export const time = (t) => (t ? new Date(t).toLocaleString() : '—');

export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows)));
}

export const PROVIDERS = ['stripe', 'bridge', 'pagar_me', 'brla', 'avenia', 'mercado_pago', 'facilita_pay', 'inter_bank', 'konduto'];
export const ROLES = ['customer', 'connected_account', 'subaccount'];
export const REG_STATUSES = ['not_submitted', 'submitted', 'awaiting_confirmation', 'processing', 'approved', 'rejected', 'restricted', 'cancelled', 'error'];
export const STATUSES = ['NOT_STARTED', 'PENDING', 'INITIATED', 'PROCESSING', 'AWAITING_CONFIRMATION', 'IN_REVIEW', 'INCOMPLETE', 'DOCUMENT_REQUIRED', 'DOCUMENT_PENDING', 'DOCUMENT_APPROVED', 'APPROVED', 'REJECTED'];
export const DOC_TYPES = ['cpf', 'cnpj', 'passport', 'ssn', 'itin', 'cc', 'curp', 'personal_tax_id', 'company_tax_id'];
export const EVENT_NAMES = ['customer.created', 'customer.updated', 'customer.processing',
  'customer.action_required', 'customer.verified', 'customer.rejected', 'customer.sync.started',
  'customer.sync.succeeded', 'customer.sync.failed', ...REG_STATUSES.map((s) => `provider_registration.${s}`)];
