// The console's shell: sign-in, navigation between pages by the URL's hash (which never holds the
// key), and a poller that refreshes the open page every few seconds while the tab is visible.
import { call, session, whenUnauthenticated } from './api.js';
import { fill, h, toast } from './dom.js';
import * as deployments from './pages/deployments.js';
import * as deployment from './pages/deployment.js';
import * as models from './pages/models.js';
import * as playground from './pages/playground.js';
import * as usage from './pages/usage.js';
import * as keys from './pages/keys.js';
import * as signIn from './pages/signin.js';

const POLL_MS = 3000;
const main = document.getElementById('main');
let current = null; // { page, dispose }
let pollTimer = null;

const routes = [
  [/^#\/deployments\/([a-z0-9-]+)$/, deployment, 'deployments'],
  [/^#\/deployments$/, deployments, 'deployments'],
  [/^#\/models$/, models, 'models'],
  [/^#\/playground$/, playground, 'playground'],
  [/^#\/usage$/, usage, 'usage'],
  [/^#\/keys$/, keys, 'keys'],
];

function route() {
  for (const [re, page, section] of routes) {
    const m = re.exec(location.hash);
    if (m) return { page, section, args: m.slice(1) };
  }
  return null;
}

async function show() {
  current?.view?.dispose?.();
  current = null;
  clearTimeout(pollTimer);
  if (!session.key || !session.account) {
    document.getElementById('top').hidden = true;
    fill(main, signIn.render({ onSignedIn: start }));
    main.querySelector('input')?.focus();
    return;
  }
  const r = route();
  if (!r) { location.hash = '#/deployments'; return; }
  document.getElementById('top').hidden = false;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.section === r.section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const view = r.page.render(...r.args);
  current = { page: r.page, view };
  fill(main, view.element);
  document.title = `${view.title} · Kiln console`;
  await refresh(view, true);
}

async function refresh(view, first = false) {
  if (current?.view !== view) return;
  try {
    await view.refresh?.(first);
    view.element.querySelector('.load-error')?.remove();
  } catch (e) {
    if (e.status === 401) return;
    if (!view.element.querySelector('.load-error')) view.element.prepend(h('p', { class: 'load-error error', role: 'alert' }, ''));
    view.element.querySelector('.load-error').textContent = `Could not load: ${e.message}`;
  }
  if (current?.view === view && view.refresh && view.poll !== false) {
    pollTimer = setTimeout(() => { if (!document.hidden) refresh(view); }, view.pollMs?.() ?? POLL_MS);
  }
}

async function start(key) {
  const who = await call('GET', '/v1/whoami', undefined, key);
  session.key = key;
  session.account = who.accountId;
  session.whoami = who;
  document.getElementById('who').textContent = `${who.account}${who.admin ? ' (admin)' : ''} · key ${who.apiKeyId}`;
  if (!route()) location.hash = '#/deployments';
  else await show();
}

function signOut(message) {
  session.key = null;
  session.account = null;
  session.whoami = null;
  if (message) toast(message, 'error');
  show();
}

whenUnauthenticated((message) => signOut(`Signed out: the server refused the API key (${message}).`));
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => show());
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && current?.view) { clearTimeout(pollTimer); refresh(current.view); }
});

// A reload keeps the tab's session: check the stored key again before showing anything.
if (session.key) {
  start(session.key).catch((e) => signOut(e.status === 401 ? undefined : `Could not sign in: ${e.message}`));
} else {
  show();
}
