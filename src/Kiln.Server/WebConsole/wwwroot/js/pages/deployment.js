// One deployment: state, charts of its last hour or day, events, replicas, addons and actions.
import { acct, all, del, get, patch, post } from '../api.js';
import { addonProblem, ago, badge, field, fill, h, id, option, setFieldError, table, toast } from '../dom.js';
import { timeChart } from '../charts.js';
import { formChoices, specForm } from './specform.js';
import { loadCell } from './deployments.js';

export function render(deploymentId) {
  const path = acct(`deployments/${deploymentId}`);
  let deployment = null;
  let span = '1h';
  let formFor = null;
  let choices = null; // the update form's models and accelerators, read once

  const head = h('div', { class: 'summary' });
  const charts = [
    timeChart({ title: 'Replicas', unit: '', minMax: 1, series: [
      { label: 'ready', value: (p) => p.replicas },
      { label: 'desired', value: (p) => p.desiredReplicas, dash: [6, 4] }] }),
    timeChart({ title: 'Load vs target (1 = at target)', unit: '', minMax: 1, series: [
      { label: 'load per replica', value: (p) => p.load },
      { label: 'target', value: () => 1, dash: [4, 4], color: '#9ca3af' }] }),
    timeChart({ title: 'Requests per second', unit: '/s', series: [
      { label: 'requests/s', value: (p) => p.requestsPerSecond },
      { label: 'held requests', value: (p) => p.heldRequests, dash: [6, 4] }] }),
    timeChart({ title: 'Generated tokens per second', unit: '/s', series: [{ label: 'tokens/s', value: (p) => p.tokensPerSecond }] }),
    timeChart({ title: 'Latency (gateway, whole request)', unit: 's', minMax: 0.1, dots: true, series: [
      { label: 'p50', value: (p) => p.p50LatencySeconds },
      { label: 'p99', value: (p) => p.p99LatencySeconds }] }),
  ];
  const windowPick = h('select', { 'aria-label': 'Chart window', onchange: () => { span = windowPick.value; view.refresh(); } },
    option('1h', 'Last hour', true), option('24h', 'Last day'));
  const events = h('div');
  const replicas = h('div');
  const addons = h('div');
  const actions = h('div', { class: 'card' });
  const editBox = h('div');

  const scaleInput = h('input', { type: 'text', inputMode: 'numeric', name: 'replicaCount' });
  // What the autoscaler does with the requested count, as the API's answer words it; kept until the next request.
  const scaleOutlook = h('p', { class: 'form-status outlook', role: 'status' });
  const scaleForm = h('form', { class: 'inline-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const n = scaleInput.value.trim();
    const min = deployment?.minReplicaCount ?? 0;
    const max = deployment?.maxReplicaCount ?? 100;
    // The bounds check :scale makes, before the round trip; the server checks again.
    if (!/^\d+$/.test(n)) { setFieldError(scaleInput, `must be a whole number between ${min} and ${max}`); return; }
    const count = Number(n);
    if (count < min || count > max) {
      setFieldError(scaleInput, `${count} is outside the deployment's bounds [minReplicaCount ${min}, maxReplicaCount ${max}]; ${count > max
        ? `raise maxReplicaCount to at least ${count}` : `lower minReplicaCount to at most ${count}`} first (Update, below)`);
      return;
    }
    setFieldError(scaleInput, null);
    scaleOutlook.textContent = '';
    try {
      // A desired count within the bounds, as kilnctl scale and firectl scale deployment ask for it.
      const answer = await post(`${path}:scale`, { replicaCount: count });
      deployment = answer.deployment;
      scaleOutlook.textContent = `Scale to ${answer.replicaCount} requested: ${answer.autoscaler}.`;
      toast(`Scaling ${deploymentId} to ${answer.replicaCount}.`);
      view.refresh();
    } catch (err) { setFieldError(scaleInput, err.message); }
  } }, field('Scale to N replicas', scaleInput, 'A desired count within min and max; the autoscaler applies it at once.'),
  h('button', { type: 'submit' }, 'Scale'));

  const deleteButton = h('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!confirm(`Delete deployment ${deploymentId}? Its replicas stop and it stops serving.`)) return;
    try {
      await del(path);
      toast(`Deleting ${deploymentId}.`);
      view.refresh();
    } catch (err) { toast(err.message, 'error'); }
  } }, 'Delete deployment');

  const undeleteButton = h('button', { type: 'button', onclick: async () => {
    try {
      deployment = await post(`${path}:undelete`);
      toast(`Undeleted ${deploymentId}.`);
      view.refresh();
    } catch (err) { toast(err.message, 'error'); }
  } }, 'Undelete');

  function drawSummary(d, last) {
    const ready = d.replicaStats?.readyReplicaCount ?? d.replicaCount ?? 0;
    fill(head,
      h('dl', { class: 'facts' },
        fact('State', badge(d.state)),
        fact('Status', d.status?.message || d.status?.code || '—'),
        fact('Replicas', `${ready} ready / ${d.desiredReplicaCount} desired (min ${d.minReplicaCount}, max ${d.maxReplicaCount})`),
        fact('Starting', `${d.replicaStats?.pendingSchedulingReplicaCount ?? 0} pending, ${d.replicaStats?.downloadingModelReplicaCount ?? 0} downloading, ${d.replicaStats?.initializingReplicaCount ?? 0} initializing`),
        fact('Load', last ? loadCell(last) : '—'),
        fact('Held requests', last ? String(last.heldRequests) : '—'),
        fact('Base model', d.baseModel),
        fact('Engine', `${d.engine ?? 'kiln'}${d.engineArgs?.length ? ` ${d.engineArgs.join(' ')}` : ''}`),
        fact('Accelerator', `${d.acceleratorType} × ${d.acceleratorCount}`),
        fact('Precision', d.precision ?? 'FP32'),
        fact('Speculation', d.draftModel ? `draft model ${d.draftModel}, ${d.draftTokenCount} tokens per step`
          : d.ngramSpeculationLength ? `n-gram length ${d.ngramSpeculationLength}, ${d.draftTokenCount} tokens per step` : 'none'),
        d.description ? fact('Description', d.description) : null,
        fact('Addons', d.enableAddons ? `enabled, at most ${d.maxAddonCount}` : 'disabled'),
        fact('Shape', d.deploymentShape || 'none'),
        fact('Serving', `batch ${d.maxBatchSize ?? 'default'}, context ${d.maxContextLength ?? "the model's"}, prefix cache ${d.prefixCacheMb ?? 256} MB`),
        fact('Windows', `up ${d.autoscalingPolicy?.scaleUpWindow}, down ${d.autoscalingPolicy?.scaleDownWindow}, to zero ${d.autoscalingPolicy?.scaleToZeroWindow}`),
        fact('Load targets', Object.entries(d.autoscalingPolicy?.loadTargets ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')),
        fact('Last request', ago(d.lastRequestTime)),
        fact('Created', `${d.createTime ?? '—'} by ${d.createdBy ?? '—'}`)));
  }

  function drawEvents(list) {
    const rows = [...(list ?? [])].reverse().map((e) =>
      h('tr', {}, h('td', { class: 'nowrap' }, e.time), h('td', {}, h('span', { class: `event ${e.type === 'Autoscaled' || e.type === 'Autoscaler' ? 'autoscaler' : ''}` }, e.type)), h('td', { class: 'wrap' }, e.message)));
    fill(events, table(['Time', 'Type', 'Message'], rows, 'Events and autoscaler decisions, newest first'));
  }

  function drawReplicas(list) {
    fill(replicas, table(['Replica', 'Phase', 'Host:port', 'Ready since', 'Failures', 'Last error'],
      (list ?? []).map((r) => h('tr', {}, h('td', {}, r.replicaId), h('td', {}, badge(r.phase)), h('td', {}, r.host ? `${r.host}:${r.port}` : '—'),
        h('td', {}, r.readyTime ? ago(r.readyTime) : '—'), h('td', {}, String(r.failureCount ?? 0)), h('td', { class: 'wrap' }, r.lastError ?? ''))),
      'Replicas'));
  }

  function drawAddons(list) {
    fill(addons, table(['Addon', 'State', 'Since', ''],
      list.map((m) => h('tr', { dataset: { addon: id(m.model) } }, h('td', {}, m.model), h('td', { class: 'wrap' }, badge(m.state), addonProblem(m)), h('td', {}, ago(m.updateTime)),
        h('td', {}, m.state === 'UNDEPLOYING' ? '' : h('button', { type: 'button', class: 'secondary small', onclick: async () => {
          try { await del(acct(`deployedModels/${id(m.name)}`)); toast(`Undeploying ${id(m.model)}.`); view.refresh(); } catch (err) { toast(err.message, 'error'); }
        } }, 'Undeploy')))),
      'Addons on this deployment (deploy them from Models & addons)'));
  }

  function drawActions(d) {
    const gone = d.state === 'DELETED' || d.state === 'DELETING';
    if (gone) {
      // A DELETED deployment is kept and may come back with its spec (:undelete); DELETING must finish first.
      if (actions.dataset.gone !== d.state) {
        fill(actions, h('h2', {}, 'Actions'), d.state === 'DELETED'
          ? [h('p', {}, 'This deployment is DELETED. Undelete brings it back with the spec it had; addons deployed on it stay undeployed.'), undeleteButton]
          : h('p', {}, 'This deployment is DELETING; it can be undeleted once its replicas are gone.'));
        actions.dataset.gone = d.state;
      }
      fill(editBox);
      formFor = null;
      return;
    }
    if (!actions.firstChild || actions.dataset.gone) { fill(actions, h('h2', {}, 'Actions'), scaleForm, scaleOutlook, deleteButton); delete actions.dataset.gone; }
    // Rebuilt only when the spec changed, so typing is not lost to the poller.
    const key = JSON.stringify([d.displayName, d.description, d.minReplicaCount, d.maxReplicaCount, d.autoscalingPolicy, d.unusedAutoDeleteDuration,
      d.acceleratorType, d.acceleratorCount, d.precision, d.enableAddons, d.draftModel, d.draftTokenCount, d.ngramSpeculationLength, d.engine, d.engineArgs,
      d.deploymentShape, d.prefixCacheMb, d.maxAddonCount, Boolean(choices)]);
    if (formFor !== key) {
      formFor = key;
      fill(editBox, h('details', { class: 'card' }, h('summary', {}, 'Update replicas, windows and load targets'),
        specForm({ mode: 'update', deployment: d, models: choices?.models, inventory: choices?.inventory,
          engines: choices?.engines, shapes: choices?.shapes, submit: async (body) => {
          deployment = await patch(path, body);
          toast(`Updated ${deploymentId}.`);
          view.refresh();
        } })));
    }
  }

  const view = {
    title: `Deployment ${deploymentId}`,
    element: h('section', { class: 'page', 'aria-labelledby': 'page-title' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/deployments' }, '← Deployments')),
      h('h1', { id: 'page-title' }, deploymentId),
      head,
      h('div', { class: 'toolbar' }, h('h2', {}, 'History'), windowPick),
      h('div', { class: 'charts' }, charts.map((c) => c.element)),
      actions, editBox,
      h('h2', {}, 'Events'), events,
      h('h2', {}, 'Replicas'), replicas,
      h('h2', {}, 'Addons'), addons),
    async refresh() {
      const [d, history, deployed] = await Promise.all([
        get(path),
        get(`${path}/history?window=${span}`),
        all(`${acct('deployedModels')}?deployment=${encodeURIComponent(deploymentId)}`, 'deployedModels'),
      ]);
      deployment = d;
      // Read once; the page still works (and tries again) when either cannot be read.
      choices ??= await Promise.all([all(acct('models'), 'models'), get('/v1/accelerators'), formChoices(get)])
        .then(([models, inventory, offered]) => ({ models, inventory, ...offered }), () => null);
      const last = history.points.at(-1);
      drawSummary(d, last);
      for (const c of charts) c.update(history.points);
      drawEvents(d.events);
      drawReplicas(d.replicas);
      drawAddons(deployed);
      drawActions(d);
    },
    dispose() { for (const c of charts) c.dispose(); },
  };
  return view;
}

function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

