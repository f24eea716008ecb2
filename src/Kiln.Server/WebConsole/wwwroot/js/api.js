// The console's only way to the server: the REST API with the signed-in key as a bearer token.
// The key lives in sessionStorage (this tab, until it closes); it never goes into a URL or a cookie.

const KEY = 'kiln.apiKey';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) { if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY); },
  account: null,
  whoami: null,
};

let onUnauthenticated = () => {};
/** Called when the server refuses the key (revoked, or the store forgot it). */
export function whenUnauthenticated(handler) { onUnauthenticated = handler; }

function headers(extra = {}, key = session.key) {
  return { Authorization: `Bearer ${key}`, ...extra };
}

async function failure(response, signedIn = true) {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = await response.json();
    // The control plane answers { code, message }; the inference surface { error: { message, code } }.
    code = body.code ?? body.error?.code ?? body.error?.type ?? code;
    message = body.message ?? body.error?.message ?? message;
  } catch { /* not JSON: keep the status line */ }
  if (response.status === 401 && signedIn) onUnauthenticated(message);
  return new ApiError(response.status, code, message);
}

/**
 * A JSON call; throws ApiError with the server's code and message. With an explicit key (signing
 * in) a refusal is the caller's to show; with the session's key it signs the console out.
 */
export async function call(method, path, body, key) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }, key),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', `cannot reach the Kiln server: ${e.message}`);
  }
  if (!response.ok) throw await failure(response, key === undefined);
  return response.status === 204 ? {} : response.json();
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);

/** Every page of a list. */
export async function all(path, field) {
  const items = [];
  let token = '';
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}pageSize=200${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    items.push(...(page[field] ?? []));
    token = page.nextPageToken ?? '';
  } while (token);
  return items;
}

/** Account-scoped path: /v1/accounts/<signed-in account>/<rest>. */
export function acct(rest = '') {
  return `/v1/accounts/${encodeURIComponent(session.account)}${rest ? `/${rest}` : ''}`;
}

/**
 * PUT of raw bytes with upload progress (fetch cannot report it): resolves with the JSON answer,
 * rejects with ApiError.
 */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.setRequestHeader('Authorization', `Bearer ${session.key}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, 'UNAVAILABLE', 'the upload was interrupted'));
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText || '{}'); } catch { /* keep {} */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) onUnauthenticated(body.message);
        reject(new ApiError(xhr.status, body.code ?? `HTTP_${xhr.status}`, body.message ?? xhr.statusText));
      }
    };
    xhr.send(file);
  });
}

/**
 * A streamed inference request: calls onDelta(text) for each chunk's text and resolves with the
 * final usage (if the server sent one). Aborts with the signal.
 */
export async function stream(path, body, onDelta, signal) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
      body: JSON.stringify(body),
      signal,
      credentials: 'omit',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'UNAVAILABLE', `cannot reach the Kiln server: ${e.message}`);
  }
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let usage = null;
  let done = false;
  while (!done) {
    const { value, done: end } = await reader.read();
    if (end) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') { done = true; break; }
        const chunk = JSON.parse(data);
        if (chunk.error) throw new ApiError(502, chunk.error.code ?? 'upstream_error', chunk.error.message);
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        const text = choice?.delta?.content ?? choice?.text ?? '';
        if (text) onDelta(text);
      }
    }
  }
  return usage;
}
