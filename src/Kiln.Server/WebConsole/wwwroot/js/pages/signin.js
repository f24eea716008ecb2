import { h, setFieldError, field } from '../dom.js';

export function render({ onSignedIn }) {
  const input = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', spellcheck: false, required: true });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', {
    class: 'card signin',
    onsubmit: async (e) => {
      e.preventDefault();
      setFieldError(input, null);
      const key = input.value.trim();
      if (!key) { setFieldError(input, 'enter an API key'); return; }
      button.disabled = true;
      try {
        await onSignedIn(key);
      } catch (err) {
        setFieldError(input, err.status === 401 ? `The server refused this key: ${err.message}` : err.message);
        input.focus();
      } finally {
        button.disabled = false;
      }
    },
  },
  h('h1', {}, 'Kiln console'),
  h('p', {}, 'Sign in with an API key. It is kept in this tab only (session storage) and sent as a bearer token; closing the tab forgets it.'),
  field('API key', input, 'kilnctl create api-key prints one; the server prints the admin key on its first start.'),
  button);
  return form;
}
