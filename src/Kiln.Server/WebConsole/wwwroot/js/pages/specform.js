// The deployment form: every spec field with its default, validated as the API validates it.
// Create shows all of them; update shows those that can change in place or by a rollout.
import { h, field, option, setFieldError } from '../dom.js';
import {
  ACCELERATOR_COUNTS, DEFAULTS, ENGINES, MAX_ADDON_COUNT, MAX_DRAFT_TOKENS, MAX_ENGINE_ARGS, MAX_NGRAM_LENGTH, MAX_PREFIX_CACHE_MB, PRECISIONS,
  buildSpec, formatLoadTargets, goDuration,
  idProblem, placement, serverFieldErrors,
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
  description: 'Free text, at most 4096 characters.',
  engine: `Default kiln; also ${ENGINES.slice(1).join(', ')} or a profile of this server.`,
  engineArgs: `Added to the engine's command line, one argument per line (at most ${MAX_ENGINE_ARGS}); default none.`,
  draftModel: 'Speculative decoding: a smaller model over the same tokenizer proposes tokens. Default none.',
  ngramSpeculationLength: `Or prompt lookup: n-gram length 1-${MAX_NGRAM_LENGTH}, not with a draft model. Default none.`,
  draftTokenCount: `Tokens proposed per step, 1-${MAX_DRAFT_TOKENS} (typically 4); needed with either. Default none.`,
  deploymentShape: 'A preset of accelerators, precision, batch, context and cache for the model; its fields may not be contradicted. Default none.',
  prefixCacheMb: `Memory kept for reusing prompt prefixes, 0 (off) to ${MAX_PREFIX_CACHE_MB} MB; Kiln's engine only. Default 256.`,
  maxAddonCount: `Addons this deployment may hold, 1-${MAX_ADDON_COUNT}. Default: the server's limit.`,
};

/**
 * The engines this server offers and the deployment shapes it knows, for the form's suggestions;
 * nulls when either cannot be read (the form then suggests the built-in engines and no shape).
 */
export async function formChoices(get) {
  const [engines, shapes] = await Promise.all([
    get('/v1/engines').catch(() => null),
    get('/v1/accounts/kiln/deploymentShapes/-/versions').catch(() => null),
  ]);
  const ids = (shapes?.deploymentShapeVersions ?? []).map((v) => /deploymentShapes\/([^/]+)\//.exec(v.name)?.[1]).filter(Boolean);
  return { engines, shapes: [...new Set(ids)] };
}

function text(name, value, extra = {}) {
  return h('input', { type: 'text', name, value: value ?? '', autocomplete: 'off', spellcheck: false, ...extra });
}

function select(name, values, selected) {
  return h('select', { name }, values.map((v) => option(String(v), String(v), String(v) === String(selected))));
}

/**
 * options: { mode: 'create' | 'update', models: [model], inventory (GET /v1/accelerators),
 * engines (GET /v1/engines, optional), shapes (shape version names, optional), deployment?,
 * submit(body, id) -> Promise }. Returns the form element.
 */
export function specForm({ mode, models = [], inventory, engines: offered, shapes = [], deployment, submit }) {
  const create = mode === 'create';
  const spec = deployment ?? {};
  const policy = spec.autoscalingPolicy ?? {};
  const inputs = {};
  const fields = [];
  const add = (name, label, input, hint = HINTS[name]) => { inputs[name] = input; fields.push(field(label, input, hint)); };
  const where = placement(inventory);
  const wholeModels = models.filter((m) => (m.state === 'READY' || m.state === 'DEPLOYED') && m.kind !== 'HF_PEFT_ADDON');

  if (create) {
    add('deploymentId', 'Deployment ID', text('deploymentId', ''));
    const ready = models.filter((m) => m.state === 'READY' || m.state === 'DEPLOYED');
    add('baseModel', 'Base model', h('select', { name: 'baseModel', required: true },
      option('', ready.length ? 'Choose a model…' : 'No READY model: import one first'),
      ready.map((m) => option(m.name, `${m.name}${m.kind === 'HF_PEFT_ADDON' ? ' (addon, merged)' : ''}`))));
  }
  add('displayName', 'Display name', text('displayName', create ? DEFAULTS.displayName : spec.displayName));
  add('description', 'Description', h('textarea', { name: 'description', rows: 2, value: create ? DEFAULTS.description : (spec.description ?? '') }));
  add('minReplicaCount', 'Min replicas', text('minReplicaCount', create ? DEFAULTS.minReplicaCount : spec.minReplicaCount, { inputMode: 'numeric' }));
  add('maxReplicaCount', 'Max replicas', text('maxReplicaCount', create ? DEFAULTS.maxReplicaCount : spec.maxReplicaCount, { inputMode: 'numeric' }));
  add('scaleUpWindow', 'Scale-up window', text('scaleUpWindow', create ? DEFAULTS.scaleUpWindow : goDuration(policy.scaleUpWindow)));
  add('scaleDownWindow', 'Scale-down window', text('scaleDownWindow', create ? DEFAULTS.scaleDownWindow : goDuration(policy.scaleDownWindow)));
  add('scaleToZeroWindow', 'Scale-to-zero window', text('scaleToZeroWindow', create ? DEFAULTS.scaleToZeroWindow : goDuration(policy.scaleToZeroWindow)));
  add('loadTargets', 'Load targets', text('loadTargets', create ? DEFAULTS.loadTargets : formatLoadTargets(policy.loadTargets)));
  add('unusedAutoDeleteDuration', 'Delete when unused for', text('unusedAutoDeleteDuration', create ? DEFAULTS.unusedAutoDeleteDuration : goDuration(spec.unusedAutoDeleteDuration)));
  // The types this server's accelerators hold (all known types when it cannot tell), and the
  // current one of an existing deployment even if no node holds it any more.
  const type = create ? where.defaultType : spec.acceleratorType;
  const types = where.types.includes(type) || !type ? where.types : [...where.types, type];
  add('acceleratorType', 'Accelerator type', select('acceleratorType', types, type),
    where.unknown ? 'This server cannot tell its accelerators; any type is accepted.' : `Default ${where.defaultType}. This server holds ${where.available()}.`);
  add('acceleratorCount', 'Accelerator count', select('acceleratorCount', ACCELERATOR_COUNTS, create ? DEFAULTS.acceleratorCount : spec.acceleratorCount),
    'Per replica (world size); default 1.');
  add('precision', 'Precision', select('precision', PRECISIONS, create ? DEFAULTS.precision : (spec.precision ?? 'FP32')));
  const engineNames = offered?.engines?.map((e) => e.name) ?? ENGINES;
  const engines = h('datalist', { id: `engines-${mode}` }, engineNames.map((e) => option(e)));
  add('engine', 'Engine', text('engine', create ? DEFAULTS.engine : (spec.engine ?? 'kiln'), { list: engines.id }));
  add('engineArgs', 'Engine arguments', h('textarea', { name: 'engineArgs', rows: 2, spellcheck: false,
    value: create ? DEFAULTS.engineArgs : (spec.engineArgs ?? []).join('\n') }));
  const draft = create ? DEFAULTS.draftModel : (spec.draftModel ?? '');
  const drafts = wholeModels.filter((m) => m.name !== spec.baseModel).map((m) => m.name);
  if (draft && !drafts.includes(draft)) drafts.push(draft);
  add('draftModel', 'Draft model', h('select', { name: 'draftModel' },
    option('', 'None', !draft), drafts.map((name) => option(name, name, name === draft))));
  add('ngramSpeculationLength', 'N-gram speculation length', text('ngramSpeculationLength',
    create ? DEFAULTS.ngramSpeculationLength : (spec.ngramSpeculationLength ?? ''), { inputMode: 'numeric' }));
  add('draftTokenCount', 'Draft token count', text('draftTokenCount',
    create ? DEFAULTS.draftTokenCount : (spec.draftTokenCount ?? ''), { inputMode: 'numeric' }));
  const shapeList = h('datalist', { id: `shapes-${mode}` }, shapes.map((name) => option(name)));
  add('deploymentShape', 'Deployment shape', text('deploymentShape', create ? DEFAULTS.deploymentShape : (spec.deploymentShape ?? ''), { list: shapeList.id }));
  add('prefixCacheMb', 'Prefix cache (MB)', text('prefixCacheMb', create ? DEFAULTS.prefixCacheMb : (spec.prefixCacheMb ?? ''), { inputMode: 'numeric' }));
  add('maxAddonCount', 'Max addons', text('maxAddonCount', create ? DEFAULTS.maxAddonCount : (spec.maxAddonCount ?? ''), { inputMode: 'numeric' }));
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
      const built = buildSpec(values, only, where);
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
        // The API names the fields it refuses: each message goes next to its field.
        const byField = err.status === 400 ? serverFieldErrors(err.message, Object.keys(inputs)) : null;
        for (const [k, el] of Object.entries(inputs)) setFieldError(el, byField?.[k]);
        status.textContent = `The server refused: ${err.message}`;
        if (byField) inputs[Object.keys(inputs).find((k) => byField[k])].focus();
      } finally {
        button.disabled = false;
      }
    },
  }, h('div', { class: 'grid' }, fields), engines, shapeList, h('div', { class: 'actions' }, button), status);
  return form;
}

function value(el) {
  return el.type === 'checkbox' ? el.checked : el.value;
}
