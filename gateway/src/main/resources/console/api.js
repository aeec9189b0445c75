// The admin API client shared by the console and the dashboard. The bearer token lives in sessionStorage (this tab
// only) and is sent in the Authorization header, never in a cookie or a URL: nothing a cross-site page can forge.
const KEY = 'portcullis.adminToken';

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) {
    sessionStorage.setItem(KEY, value);
  } else {
    sessionStorage.removeItem(KEY);
  }
}

/** Exchanges an admin app's client id and secret for a token at the broker's token endpoint on this origin. */
export async function login(clientId, secret) {
  const res = await fetch('/oauth2/token', {
    method: 'POST',
    headers: {
      'Authorization': 'Basic ' + btoa(clientId + ':' + secret),
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  if (res.status === 404) {
    // a verifier-only gateway (portcullis.broker.jwks-uri): tokens come from the external broker
    throw new Error('this gateway issues no tokens (it trusts an external broker): paste an admin access token');
  }
  const body = await res.json();
  if (!res.ok) {
    throw new Error(body.error_description || body.error || res.statusText);
  }
  return body.access_token;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || ('HTTP ' + status));
    this.status = status;
    this.problem = problem;
  }
}

/**
 * Calls the admin API; returns {status, etag, body}; throws ApiError with the RFC 9457 problem on failure. {@code body}
 * is sent as JSON; {@code text} as is, with {@code contentType} (the policy YAML).
 */
export async function api(path, { method = 'GET', body, text, contentType = 'application/yaml', reason, ifMatch,
  accept = 'application/json' } = {}) {
  const headers = { 'Authorization': 'Bearer ' + token(), 'Accept': accept };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  } else if (text !== undefined) {
    headers['Content-Type'] = contentType;
  }
  if (reason) {
    headers['Portcullis-Reason'] = reason;
  }
  if (ifMatch) {
    headers['If-Match'] = ifMatch;
  }
  const res = await fetch(path, { method, headers, body: body !== undefined ? JSON.stringify(body) : text });
  const type = res.headers.get('Content-Type') || '';
  const parsed = res.status === 204 ? null : type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    throw new ApiError(res.status, typeof parsed === 'object' && parsed ? parsed : { detail: String(parsed) });
  }
  return { status: res.status, etag: res.headers.get('ETag'), body: parsed };
}

/** Reads the (already verified server-side) token's claims for display only. */
export function claims() {
  try {
    const part = token().split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch (e) {
    return {};
  }
}
