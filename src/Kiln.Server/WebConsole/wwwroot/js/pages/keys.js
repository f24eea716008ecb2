// API keys: create (the key is shown once), list, revoke.
import { acct, all, del, post, session } from '../api.js';
import { ago, copyButton, field, fill, h, table, toast } from '../dom.js';

export function render() {
  const list = h('div');
  const shown = h('div', { class: 'once', role: 'status' });
  const name = h('input', { type: 'text', name: 'displayName', autocomplete: 'off' });
  const form = h('form', { class: 'inline-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    try {
      const k = await post(acct('apiKeys'), name.value ? { displayName: name.value } : {});
      const keyField = h('input', { type: 'text', readOnly: true, value: k.key, 'aria-label': 'New API key', class: 'mono' });
      fill(shown, h('p', {}, `Key ${k.keyId} created. Copy it now: it is not shown again.`), h('div', { class: 'inline' }, keyField, copyButton(() => k.key)),
        h('button', { type: 'button', class: 'secondary small', onclick: () => fill(shown) }, 'Done, hide it'));
      keyField.select();
      name.value = '';
      view.refresh();
    } catch (err) { toast(err.message, 'error'); }
  } }, field('Display name', name), h('button', { type: 'submit' }, 'Create key'));

  async function revoke(k) {
    const self = k.keyId === session.whoami?.apiKeyId;
    if (!confirm(self ? `Revoke ${k.keyId}? It is the key this console is signed in with: you will be signed out.` : `Revoke key ${k.keyId}? Requests with it fail from now on.`)) return;
    try { await del(acct(`apiKeys/${encodeURIComponent(k.keyId)}`)); toast(`Revoked ${k.keyId}.`); view.refresh(); } catch (err) { toast(err.message, 'error'); }
  }

  const view = {
    title: 'API keys',
    element: h('section', { class: 'page', 'aria-labelledby': 'page-title' },
      h('h1', { id: 'page-title' }, 'API keys'),
      h('div', { class: 'card' }, h('h2', {}, 'Create a key'), form, shown),
      list),
    async refresh() {
      const keys = await all(acct('apiKeys'), 'apiKeys');
      fill(list, table(['Key ID', 'Name', 'Created', 'Last used', ''], keys.map((k) => h('tr', { dataset: { key: k.keyId } },
        h('th', { scope: 'row' }, k.keyId, k.keyId === session.whoami?.apiKeyId ? h('div', { class: 'sub' }, 'this console') : null),
        h('td', {}, k.displayName ?? ''), h('td', {}, ago(k.createTime)), h('td', {}, ago(k.lastUseTime)),
        h('td', {}, h('button', { type: 'button', class: 'danger small', onclick: () => revoke(k) }, 'Revoke')))), `${keys.length} keys`));
    },
  };
  return view;
}
