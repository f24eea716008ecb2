// Building DOM without HTML strings: every value becomes a text node or a property, never markup.

/** h('a', { href: '#/x', class: 'c', onclick: f }, 'text', child, [more]) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'list' || key === 'for' || key.includes('-') || !(key in el)) el.setAttribute(key, value === true ? '' : String(value));
    else el[key] = value;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field; the input gets an id so the label points at it. */
let fieldIds = 0;
export function field(label, input, hint) {
  const id = input.id || `f${++fieldIds}`;
  input.id = id;
  const hintEl = hint ? h('small', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const error = h('small', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl, error);
}

/** Shows a validation message under a field built by field(), or clears it. */
export function setFieldError(input, message) {
  const error = document.getElementById(`${input.id}-error`);
  if (error) error.textContent = message ?? '';
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

export function option(value, label = value, selected = false) {
  return h('option', { value, selected }, label);
}

export function table(headers, rows, caption) {
  // Each cell carries its column's name, which a phone's narrow layout shows beside the value
  // (console.css stacks a row's cells there instead of scrolling sideways).
  const names = headers.map((x) => (x instanceof Node ? x.textContent : String(x)));
  for (const row of rows) [...row.children].forEach((cell, i) => { if (names[i] && cell.colSpan === 1) cell.dataset.label = names[i]; });
  return h('div', { class: 'table-wrap' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((x) => (x instanceof Node ? x : h('th', { scope: 'col' }, x))))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colSpan: headers.length, class: 'empty' }, 'Nothing here yet.')))));
}

export function badge(state) {
  return h('span', { class: `badge state-${String(state ?? 'unknown').toLowerCase()}` }, state ?? 'UNKNOWN');
}

/** Why a deployed addon is not serving (a replica refused to load it), or nothing while it is fine. */
export function addonProblem(deployed) {
  const status = deployed?.status;
  return status?.message ? h('div', { class: 'sub error addon-problem', role: 'note' }, `${status.code}: ${status.message}`) : null;
}

/** "3 min ago" for an RFC 3339 time; "never" for none. */
export function ago(time) {
  if (!time) return 'never';
  const seconds = Math.round((Date.now() - Date.parse(time)) / 1000);
  if (!Number.isFinite(seconds)) return String(time);
  if (seconds < 5) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

export function number(value, digits = 2) {
  if (value === undefined || value === null || !Number.isFinite(Number(value))) return '—';
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function money(value) {
  return `$${Number(value ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** The last segment of a resource name: accounts/a/deployments/d -> d. */
export function id(name) {
  return String(name ?? '').split('/').pop();
}

export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
}

/** A button that copies text to the clipboard. */
export function copyButton(getText, label = 'Copy') {
  return h('button', {
    type: 'button', class: 'secondary small',
    onclick: async () => {
      try { await navigator.clipboard.writeText(getText()); toast('Copied to the clipboard.'); }
      catch { toast('The browser refused the clipboard; select the text and copy it.', 'error'); }
    },
  }, label);
}
