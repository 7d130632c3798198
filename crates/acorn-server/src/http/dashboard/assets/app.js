// Entry point: sign-in, sign-out and the hash router.
import { signIn, signOut, signedIn } from '/dashboard/api.js';
import { h, field, showError, flash, clearFlash } from '/dashboard/ui.js';
import { customersPage, customerForm } from '/dashboard/customers.js';
import { customerPage } from '/dashboard/customer.js';
import { eventsPage } from '/dashboard/events.js';
import { webhooksPage } from '/dashboard/webhooks.js';

const app = document.getElementById('app');
const nav = document.getElementById('nav');
// Pages that poll register a stop function here; it runs when the page changes.
let stop = null;

function signInPage() {
  const form = h('form', { 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Use a merchant\'s client id and secret (printed by acorn serve on first start, or by acorn merchants create). The token stays in this tab\'s memory only.'),
    h('div', { class: 'grid' },
      field('Client id', h('input', { name: 'client_id', required: true, autocomplete: 'username' })),
      field('Client secret', h('input', { name: 'client_secret', type: 'password', required: true, autocomplete: 'current-password' })),
      h('button', { type: 'submit' }, 'Sign in')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await signIn(form.client_id.value.trim(), form.client_secret.value.trim());
      if (!location.hash || location.hash === '#/') location.hash = '#/customers';
      else render();
    } catch (e) { showError(e, form); }
  });
  return h('section', {}, form);
}

async function page(hash) {
  const [path, qs] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(qs || '');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'events') return eventsPage(params, (fn) => { stop = fn; });
  if (parts[0] === 'webhooks') return webhooksPage();
  if (parts[0] === 'customers' && parts[1] === 'new') return customerForm(null);
  if (parts[0] === 'customers' && parts[1] && parts[2] === 'edit') return customerForm(parts[1]);
  if (parts[0] === 'customers' && parts[1]) return customerPage(parts[1], (fn) => { stop = fn; });
  return customersPage(params);
}

async function render() {
  if (stop) { stop(); stop = null; }
  clearFlash();
  nav.hidden = !signedIn();
  if (!signedIn()) { app.replaceChildren(signInPage()); return; }
  app.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    app.replaceChildren(await page(location.hash || '#/customers'));
  } catch (e) {
    app.replaceChildren(h('section', {}, h('h1', {}, 'Something went wrong'), h('p', {}, e.message)));
  }
  const heading = app.querySelector('h1');
  if (heading) { heading.tabIndex = -1; document.title = `${heading.textContent} · Acorn`; }
}

document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  location.hash = '#/';
  render();
  flash('Signed out: the token is forgotten.');
});
window.addEventListener('acorn:signed-out', () => { render(); flash('Your session ended; sign in again.', true); });
window.addEventListener('hashchange', render);
window.addEventListener('acorn:refresh', render);
render();
