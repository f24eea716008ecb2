// Playground: a chat or completion request to any deployment or deployed addon, streamed as it is
// generated, with the sampling settings and the same request as curl and OpenAI SDK code to copy.
import { acct, all, ApiError, stream } from '../api.js';
import { copyButton, field, fill, h, id, number, option, setFieldError } from '../dom.js';

const SETTINGS = [
  // name, label, default, check(value) -> problem
  ['max_tokens', 'Max tokens', '128', (v) => (/^\d+$/.test(v) && Number(v) >= 1 ? null : 'a whole number of at least 1')],
  ['temperature', 'Temperature', '0.7', (v) => (Number(v) >= 0 && Number(v) <= 2 ? null : 'between 0 and 2')],
  ['top_p', 'Top p', '1', (v) => (Number(v) > 0 && Number(v) <= 1 ? null : 'in (0, 1]')],
  ['top_k', 'Top k', '', (v) => (/^\d+$/.test(v) ? null : 'a whole number (0 = off)')],
  ['min_p', 'Min p', '', (v) => (Number(v) >= 0 && Number(v) <= 1 ? null : 'between 0 and 1')],
  ['presence_penalty', 'Presence penalty', '', (v) => (Number(v) >= -2 && Number(v) <= 2 ? null : 'between -2 and 2')],
  ['frequency_penalty', 'Frequency penalty', '', (v) => (Number(v) >= -2 && Number(v) <= 2 ? null : 'between -2 and 2')],
  ['seed', 'Seed', '', (v) => (/^-?\d+$/.test(v) ? null : 'a whole number')],
  ['stop', 'Stop sequence', '', () => null],
];

export function render() {
  let running = null;
  const target = h('select', { name: 'model' });
  const mode = h('select', { name: 'mode' }, option('chat', 'Chat completion', true), option('completion', 'Completion'));
  const system = h('textarea', { name: 'system', rows: 2, placeholder: 'Optional system message' });
  const prompt = h('textarea', { name: 'prompt', rows: 4, required: true }, 'Once upon a time');
  const settings = Object.fromEntries(SETTINGS.map(([name, , def]) => [name, h('input', { type: 'text', name, value: def, autocomplete: 'off', inputMode: name === 'stop' ? 'text' : 'decimal' })]));
  const output = h('pre', { class: 'output', 'aria-live': 'polite', 'aria-label': 'Answer', tabIndex: 0 });
  const stats = h('p', { class: 'sub', role: 'status' });
  const send = h('button', { type: 'submit' }, 'Send');
  const stop = h('button', { type: 'button', class: 'secondary', disabled: true, onclick: () => running?.abort() }, 'Stop');
  const curl = h('pre', { class: 'code' });
  const sdk = h('pre', { class: 'code' });
  const systemField = field('System message', system);

  function request() {
    const errors = {};
    const body = { model: target.value, stream: true };
    if (mode.value === 'chat') {
      body.messages = [...(system.value.trim() ? [{ role: 'system', content: system.value }] : []), { role: 'user', content: prompt.value }];
    } else {
      body.prompt = prompt.value;
    }
    for (const [name, , , check] of SETTINGS) {
      const v = settings[name].value.trim();
      const problem = v === '' ? null : check(v);
      setFieldError(settings[name], problem);
      if (problem) errors[name] = problem;
      else if (v !== '') body[name] = name === 'stop' ? v : Number(v);
    }
    if (!body.model) errors.model = 'no deployment to send to: create one first';
    setFieldError(target, errors.model);
    return { body, errors };
  }

  function drawSnippets() {
    const { body } = request();
    const path = mode.value === 'chat' ? 'chat/completions' : 'completions';
    const base = `${location.origin}/v1`;
    // The key stays out of the snippets: they read it from the environment.
    fill(curl, `curl -sN ${base}/${path} \\\n  -H "Authorization: Bearer $KILN_API_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d '${JSON.stringify(body).replaceAll("'", "'\\''")}'`);
    const { model, stream: s, messages, prompt: p, ...rest } = body;
    const args = [`    model=${JSON.stringify(model)},`,
      messages ? `    messages=${JSON.stringify(messages)},` : `    prompt=${JSON.stringify(p)},`,
      ...Object.entries(rest).map(([k, v]) => (['top_k', 'min_p'].includes(k) ? null : `    ${k}=${JSON.stringify(v)},`)).filter(Boolean),
      `    stream=${s ? 'True' : 'False'},`];
    const extra = Object.entries(rest).filter(([k]) => ['top_k', 'min_p'].includes(k));
    if (extra.length) args.push(`    extra_body=${JSON.stringify(Object.fromEntries(extra))},`);
    const call = messages ? 'client.chat.completions.create' : 'client.completions.create';
    const read = messages ? 'chunk.choices[0].delta.content or ""' : 'chunk.choices[0].text';
    fill(sdk, `import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url="${base}", api_key=os.environ["KILN_API_KEY"])\nfor chunk in ${call}(\n${args.join('\n')}\n):\n    if chunk.choices:\n        print(${read}, end="", flush=True)\n`);
  }

  const form = h('form', { class: 'playground', novalidate: true,
    oninput: drawSnippets,
    onchange: () => { systemField.hidden = mode.value !== 'chat'; drawSnippets(); },
    onsubmit: async (e) => {
      e.preventDefault();
      const { body, errors } = request();
      if (Object.keys(errors).length) return;
      running = new AbortController();
      send.disabled = true; stop.disabled = false;
      output.textContent = '';
      stats.textContent = 'Waiting for the first token (a deployment at zero replicas wakes first)…';
      const started = performance.now();
      let first = null;
      let pieces = 0;
      try {
        const usage = await stream(mode.value === 'chat' ? '/v1/chat/completions' : '/v1/completions',
          { ...body, stream_options: { include_usage: true } },
          (text) => { first ??= performance.now(); pieces++; output.append(text); }, running.signal);
        const total = (performance.now() - started) / 1000;
        stats.textContent = `Done in ${number(total)} s; first token after ${number(((first ?? performance.now()) - started) / 1000)} s` +
          (usage ? `; ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens` : `; ${pieces} chunks`) + '.';
      } catch (err) {
        stats.textContent = err.name === 'AbortError' ? 'Stopped.' : `Error: ${err instanceof ApiError ? `${err.code}: ` : ''}${err.message}`;
      } finally {
        send.disabled = false; stop.disabled = true; running = null;
      }
    } },
  h('div', { class: 'grid' },
    field('Deployment or addon', target),
    field('Kind', mode)),
  systemField,
  field('Prompt', prompt),
  h('details', { class: 'settings' }, h('summary', {}, 'Sampling settings'),
    h('div', { class: 'grid' }, SETTINGS.map(([name, label]) => field(label, settings[name])))),
  h('div', { class: 'actions' }, send, stop));

  const view = {
    title: 'Playground',
    poll: false,
    element: h('section', { class: 'page', 'aria-labelledby': 'page-title' },
      h('h1', { id: 'page-title' }, 'Playground'),
      h('div', { class: 'two' },
        h('div', { class: 'card' }, form),
        h('div', { class: 'card' }, h('h2', {}, 'Answer'), output, stats)),
      h('div', { class: 'two' },
        h('div', { class: 'card' }, h('h2', {}, 'curl ', copyButton(() => curl.textContent)), curl),
        h('div', { class: 'card' }, h('h2', {}, 'OpenAI SDK (Python) ', copyButton(() => sdk.textContent)), sdk))),
    async refresh() {
      const [deployments, deployed] = await Promise.all([all(acct('deployments'), 'deployments'), all(acct('deployedModels'), 'deployedModels')]);
      const live = deployments.filter((d) => d.state !== 'DELETED' && d.state !== 'DELETING');
      const chosen = target.value;
      fill(target,
        live.length ? null : option('', 'No deployment yet'),
        live.length ? h('optgroup', { label: 'Deployments' }, live.map((d) => option(d.name, `${id(d.name)} (${d.baseModel}, ${d.state})`))) : null,
        deployed.length ? h('optgroup', { label: 'Addons' }, deployed.map((m) => option(m.model, `${id(m.model)} on ${id(m.deployment)} (${m.state})`))) : null);
      if (chosen && [...target.options].some((o) => o.value === chosen)) target.value = chosen;
      drawSnippets();
    },
  };
  return view;
}
