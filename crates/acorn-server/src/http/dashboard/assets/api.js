// The JSON API client. The bearer token lives only in this module's variable: it is gone when
// the tab closes or reloads, and signing out forgets it.
let token = null;
// The signed-in merchant's mode, from the token grant: live merchants have no sandbox helpers.
let live = false;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.msg) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.reasons = (body && body.failure_reasons) || [];
  }
}

export const signedIn = () => token !== null;
export const signOut = () => { token = null; live = false; };
export const isLive = () => live;

export async function signIn(clientId, clientSecret) {
  const res = await fetch('/api/v1/merchant/token/grant', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  token = body.access_token;
  live = body.livemode === true;
}

// Calls the API; `body` is JSON unless it is a FormData. Resolves to the `data` of the envelope.
export async function api(method, path, body) {
  if (!token) throw new ApiError(401, { msg: 'Not signed in' });
  const headers = { Authorization: `Bearer ${token}` };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload });
  const json = await res.json().catch(() => null);
  if (res.status === 401) { token = null; window.dispatchEvent(new Event('acorn:signed-out')); }
  if (!res.ok) throw new ApiError(res.status, json);
  return json ? json.data : null;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);

// A query string from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
