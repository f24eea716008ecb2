// The deployment form: every spec field with its default, validated as the API validates it.
// Create shows all of them; update shows those that can change in place or by a rollout.
import { h, field, option, setFieldError } from '../dom.js';
import {
  ACCELERATOR_COUNTS, ACCELERATOR_TYPES, DEFAULTS, PRECISIONS, buildSpec, formatLoadTargets, goDuration, idProblem,
} from '../spec.js';

const HINTS = {
  deploymentId: 'Optional; the server picks one when empty.',
  minReplicaCount: 'Default 0: scales to zero when idle.',
  maxReplicaCount: 'Default: 1 when min is 0, else min.',
  scaleUpWindow: 'Go duration; default 30s.',
  scaleDownWindow: 'Default 10m.',
  scaleToZeroWindow: 'Default 1h.',
  loadTargets: 'key=value, comma-separated; default default=0.8 (batch occupancy).',
  unusedAutoDeleteDuration: 'Default 168h; 0 disables.',
};

function text(name, value, extra = {}) {
  return h('input', { type: 'text', name, value: value ?? '', autocomplete: 'off', spellcheck: false, ...extra });
}

function select(name, values, selected) {
  return h('select', { name }, values.map((v) => option(String(v), String(v), String(v) === String(selected))));
}

/**
 * options: { mode: 'create' | 'update', models: [model], deployment?, submit(body, id) -> Promise }
 * Returns the form element.
 */
export function specForm({ mode, models = [], deployment, submit }) {
  const create = mode === 'create';
  const spec = deployment ?? {};
  const policy = spec.autoscalingPolicy ?? {};
  const inputs = {};
  const fields = [];
  const add = (name, label, input) => { inputs[name] = input; fields.push(field(label, input, HINTS[name])); };

  if (create) {
    add('deploymentId', 'Deployment ID', text('deploymentId', ''));
    const ready = models.filter((m) => m.state === 'READY' || m.state === 'DEPLOYED');
    add('baseModel', 'Base model', h('select', { name: 'baseModel', required: true },
      option('', ready.length ? 'Choose a model…' : 'No READY model: import one first'),
      ready.map((m) => option(m.name, `${m.name}${m.kind === 'HF_PEFT_ADDON' ? ' (addon, merged)' : ''}`))));
  }
  add('displayName', 'Display name', text('displayName', create ? DEFAULTS.displayName : spec.displayName));
  add('minReplicaCount', 'Min replicas', text('minReplicaCount', create ? DEFAULTS.minReplicaCount : spec.minReplicaCount, { inputMode: 'numeric' }));
  add('maxReplicaCount', 'Max replicas', text('maxReplicaCount', create ? DEFAULTS.maxReplicaCount : spec.maxReplicaCount, { inputMode: 'numeric' }));
  add('scaleUpWindow', 'Scale-up window', text('scaleUpWindow', create ? DEFAULTS.scaleUpWindow : goDuration(policy.scaleUpWindow)));
  add('scaleDownWindow', 'Scale-down window', text('scaleDownWindow', create ? DEFAULTS.scaleDownWindow : goDuration(policy.scaleDownWindow)));
  add('scaleToZeroWindow', 'Scale-to-zero window', text('scaleToZeroWindow', create ? DEFAULTS.scaleToZeroWindow : goDuration(policy.scaleToZeroWindow)));
  add('loadTargets', 'Load targets', text('loadTargets', create ? DEFAULTS.loadTargets : formatLoadTargets(policy.loadTargets)));
  add('unusedAutoDeleteDuration', 'Delete when unused for', text('unusedAutoDeleteDuration', create ? DEFAULTS.unusedAutoDeleteDuration : goDuration(spec.unusedAutoDeleteDuration)));
  add('acceleratorType', 'Accelerator type', create
    ? h('select', { name: 'acceleratorType' }, option('', 'Server default (what its accelerators place)', true), ACCELERATOR_TYPES.map((v) => option(v, v, false)))
    : select('acceleratorType', ACCELERATOR_TYPES, spec.acceleratorType));
  add('acceleratorCount', 'Accelerator count', select('acceleratorCount', ACCELERATOR_COUNTS, create ? DEFAULTS.acceleratorCount : spec.acceleratorCount));
  add('precision', 'Precision', select('precision', PRECISIONS, create ? DEFAULTS.precision : (spec.precision ?? 'FP32')));
  const addons = h('input', { type: 'checkbox', name: 'enableAddons', checked: create ? DEFAULTS.enableAddons : Boolean(spec.enableAddons) });
  inputs.enableAddons = addons;
  fields.push(h('div', { class: 'field check' }, h('label', {}, addons, ' Enable addons (LoRA)')));

  const initial = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, value(el)]));
  const status = h('p', { class: 'form-status', role: 'status' });
  const button = h('button', { type: 'submit' }, create ? 'Create deployment' : 'Save changes');

  const form = h('form', {
    class: 'spec-form',
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, value(el)]));
      // An update sends only what changed, as kilnctl sends only the flags given.
      const only = create ? null : new Set(Object.keys(values).filter((k) => values[k] !== initial[k]));
      const built = buildSpec(values, only);
      const { body } = built;
      // Listed in the form's order, so focus goes to the first field marked.
      const errors = { deploymentId: create ? idProblem(values.deploymentId) ?? undefined : undefined, ...built.errors };
      if (!errors.deploymentId) delete errors.deploymentId;
      for (const [k, el] of Object.entries(inputs)) setFieldError(el, errors[k]);
      if (Object.keys(errors).length) {
        status.textContent = 'Fix the fields marked above.';
        inputs[Object.keys(errors)[0]].focus();
        return;
      }
      if (!create && Object.keys(body).length === 0) { status.textContent = 'Nothing changed.'; return; }
      button.disabled = true;
      status.textContent = create ? 'Creating…' : 'Saving…';
      try {
        await submit(body, values.deploymentId);
        status.textContent = '';
      } catch (err) {
        status.textContent = `The server refused: ${err.message}`;
      } finally {
        button.disabled = false;
      }
    },
  }, h('div', { class: 'grid' }, fields), h('div', { class: 'actions' }, button), status);
  return form;
}

function value(el) {
  return el.type === 'checkbox' ? el.checked : el.value;
}
