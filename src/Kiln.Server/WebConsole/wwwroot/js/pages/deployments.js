// Deployments: the account's list (filter, sort, live) and the create form.
import { acct, all, get, post } from '../api.js';
import { ago, badge, fill, h, id, option, table, toast } from '../dom.js';
import { formChoices, specForm } from './specform.js';

const COLUMNS = [
  ['name', 'Deployment'],
  ['state', 'State'],
  ['replicas', 'Replicas (ready / desired / min / max)'],
  ['engine', 'Engine'],
  ['accelerator', 'Accelerator'],
  ['load', 'Load vs target'],
  ['lastRequest', 'Last request'],
  ['baseModel', 'Base model'],
];

function sortValue(d, key, load) {
  switch (key) {
    case 'name': return id(d.name);
    case 'replicas': return d.replicaCount ?? 0;
    case 'accelerator': return `${d.acceleratorType}${d.acceleratorCount}`;
    case 'load': return load.get(d.name)?.load ?? -1;
    case 'lastRequest': return d.lastRequestTime ?? '';
    case 'engine': return d.engine ?? '';
    default: return String(d[key] ?? '');
  }
}

export function render() {
  const state = { deployments: [], load: new Map(), sort: 'name', desc: false, filter: '', showDeleted: false };
  const body = h('div');
  const filter = h('input', { type: 'search', placeholder: 'Filter by name, model, state…', 'aria-label': 'Filter deployments',
    oninput: () => { state.filter = filter.value.trim().toLowerCase(); draw(); } });
  const sort = h('select', { 'aria-label': 'Sort by', onchange: () => { state.sort = sort.value; draw(); } },
    COLUMNS.map(([k, label]) => option(k, `Sort: ${label}`)));
  const order = h('button', { type: 'button', class: 'secondary', 'aria-label': 'Sort order',
    onclick: () => { state.desc = !state.desc; order.textContent = state.desc ? '↓ descending' : '↑ ascending'; draw(); } }, '↑ ascending');
  const deleted = h('label', { class: 'inline' }, h('input', { type: 'checkbox',
    onchange: (e) => { state.showDeleted = e.target.checked; view.refresh(); } }), ' Show deleted');
  const createBox = h('details', { class: 'card create' }, h('summary', {}, 'Create a deployment'));
  let formShown = false;

  createBox.addEventListener('toggle', async () => {
    if (!createBox.open || formShown) return;
    formShown = true;
    let models;
    let inventory;
    let offered;
    try {
      [models, inventory, offered] = await Promise.all([all(acct('models'), 'models'), get('/v1/accelerators'), formChoices(get)]);
    } catch (err) {
      formShown = false;
      toast(`Could not load the form's choices: ${err.message}`, 'error');
      return;
    }
    createBox.append(specForm({
      mode: 'create',
      models,
      inventory,
      ...offered,
      submit: async (spec, deploymentId) => {
        const created = await post(acct(`deployments${deploymentId ? `?deploymentId=${encodeURIComponent(deploymentId)}` : ''}`), spec);
        toast(`Created ${created.name}.`);
        location.hash = `#/deployments/${id(created.name)}`;
      },
    }));
  });

  function draw() {
    const rows = state.deployments
      .filter((d) => !state.filter || [d.name, d.displayName, d.baseModel, d.state, d.acceleratorType, d.engine]
        .some((x) => String(x ?? '').toLowerCase().includes(state.filter)))
      .sort((a, b) => {
        const x = sortValue(a, state.sort, state.load);
        const y = sortValue(b, state.sort, state.load);
        return (x < y ? -1 : x > y ? 1 : 0) * (state.desc ? -1 : 1);
      })
      .map((d) => {
        const l = state.load.get(d.name);
        const ready = d.replicaStats?.readyReplicaCount ?? d.replicaCount ?? 0;
        return h('tr', { dataset: { deployment: id(d.name) } },
          h('th', { scope: 'row' }, h('a', { href: `#/deployments/${id(d.name)}` }, id(d.name)),
            d.displayName && d.displayName !== id(d.name) ? h('div', { class: 'sub' }, d.displayName) : null),
          h('td', {}, badge(d.state), d.status?.message ? h('div', { class: 'sub' }, d.status.message) : null),
          h('td', { class: 'replicas' }, `${ready} / ${d.desiredReplicaCount ?? '—'} / ${d.minReplicaCount ?? 0} / ${d.maxReplicaCount ?? '—'}`),
          h('td', {}, d.engine ?? 'kiln'),
          h('td', {}, `${d.acceleratorType ?? '—'} × ${d.acceleratorCount ?? 1}`),
          h('td', {}, l ? loadCell(l) : '—'),
          h('td', {}, ago(d.lastRequestTime)),
          h('td', { class: 'wrap' }, d.baseModel ?? '—'));
      });
    fill(body, table(COLUMNS.map(([, label]) => label), rows, `${rows.length} of ${state.deployments.length} deployments`));
  }

  const view = {
    title: 'Deployments',
    element: h('section', { class: 'page', 'aria-labelledby': 'page-title' },
      h('h1', { id: 'page-title' }, 'Deployments'),
      createBox,
      h('div', { class: 'toolbar' }, filter, sort, order, deleted),
      body),
    async refresh() {
      state.deployments = await all(acct(`deployments${state.showDeleted ? '?showDeleted=true' : ''}`), 'deployments');
      // The newest history sample of each live deployment gives its load against its target.
      const live = state.deployments.filter((d) => d.state !== 'DELETED').slice(0, 50);
      const samples = await Promise.all(live.map((d) =>
        get(`${acct(`deployments/${id(d.name)}/history`)}?window=2m`).then((x) => x.points.at(-1)).catch(() => undefined)));
      state.load = new Map(live.map((d, i) => [d.name, samples[i]]).filter(([, p]) => p));
      draw();
    },
  };
  return view;
}

export function loadCell(point) {
  const pct = Math.round((point.load ?? 0) * 100);
  return h('span', { class: pct > 100 ? 'over' : '' }, h('meter', { min: 0, max: 150, low: 80, high: 100, optimum: 50, value: Math.min(pct, 150), 'aria-hidden': 'true' }),
    ` ${pct}% of ${point.loadTarget || 'default'}`);
}

