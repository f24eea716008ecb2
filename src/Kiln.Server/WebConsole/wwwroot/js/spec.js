// The deployment spec as the create and update forms show it: every field, its default, and the
// checks the API makes (Kiln.Core DeploymentSpecValidator), so mistakes show before a round trip.
// The server checks again and its message is shown when it refuses.

export const ACCELERATOR_TYPES = ['NVIDIA_A100_80GB', 'NVIDIA_H100_80GB', 'NVIDIA_H200_141GB', 'NVIDIA_B200_180GB',
  'AMD_MI300X_192GB', 'NVIDIA_A10G_24GB', 'NVIDIA_L4_24GB', 'NVIDIA_A100_40GB', 'CPU'];
export const ACCELERATOR_COUNTS = [1, 2, 4, 8];
export const PRECISIONS = ['FP32', 'FP16'];
export const LOAD_TARGETS = ['default', 'tokens_generated_per_second', 'prompt_tokens_per_second', 'requests_per_second', 'concurrent_requests'];
export const REPLICA_LIMIT = 100;
export const MAX_DISPLAY_NAME = 256;
export const MAX_DESCRIPTION = 4096;
export const MAX_DRAFT_TOKENS = 16; // Kiln.Core Speculation.MaxDraftTokens
export const MAX_NGRAM_LENGTH = 16; // Speculation.MaxNgramLength
// The engines every server offers (docs/engines.md); a server's own profiles add others.
export const ENGINES = ['kiln', 'vllm', 'sglang', 'llama-server'];
export const MAX_ENGINE_ARGS = 64;
export const MAX_ENGINE_ARG_LENGTH = 1024;
export const MAX_PREFIX_CACHE_MB = 1048576; // ReplicaArgs.MaxPrefixCacheMb
export const MAX_ADDON_COUNT = 1000; // DeploymentDefaults.MaxAddonCountLimit

export const DEFAULTS = {
  displayName: '',
  description: '',
  minReplicaCount: 0,
  maxReplicaCount: '', // 1 when min is 0, else min
  scaleUpWindow: '30s',
  scaleDownWindow: '10m',
  scaleToZeroWindow: '1h',
  loadTargets: 'default=0.8',
  acceleratorType: '', // empty: the type the server's inventory places (GET /v1/accelerators)
  acceleratorCount: 1,
  unusedAutoDeleteDuration: '168h',
  enableAddons: false,
  precision: 'FP32',
  engine: 'kiln',
  engineArgs: '', // one argument per line
  draftModel: '', // none: no speculative decoding
  draftTokenCount: '',
  ngramSpeculationLength: '',
  deploymentShape: '', // none: the fields above as given
  prefixCacheMb: '', // the replica's default budget (256)
  maxAddonCount: '', // the server's --max-addons-per-deployment
};

const UNITS = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds in a Go duration ("1h30m", "90s", "0"); throws with a message on anything else. */
export function parseDuration(text) {
  const s = String(text).trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m;
  let at = 0;
  if (s.startsWith('-')) throw new Error('must not be negative');
  while ((m = re.exec(s)) !== null) { total += Number(m[1]) * UNITS[m[2]]; at = re.lastIndex; }
  if (at === 0 || at !== s.length) throw new Error(`"${s}" is not a duration such as 30s, 10m or 1h30m`);
  return total;
}

/** The API's protobuf form: "600s", "0.500s". */
export function protoDuration(seconds) {
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(3)}s`;
}

/** "600s" -> "10m", for showing an existing spec in Go form as kilnctl does. */
export function goDuration(proto) {
  let s = Number.parseFloat(String(proto ?? '0'));
  if (!Number.isFinite(s) || s === 0) return '0s';
  let out = '';
  const h = Math.floor(s / 3600); if (h) { out += `${h}h`; s -= h * 3600; }
  const m = Math.floor(s / 60); if (m) { out += `${m}m`; s -= m * 60; }
  if (s) out += `${Number(s.toFixed(3))}s`;
  return out;
}

/** "default=0.8, concurrent_requests=4" -> { default: 0.8, concurrent_requests: 4 }. */
export function parseLoadTargets(text) {
  const targets = {};
  const parts = String(text).split(',').map((x) => x.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error('must name at least one target');
  for (const part of parts) {
    const [key, raw, extra] = part.split('=').map((x) => x.trim());
    if (extra !== undefined || raw === undefined) throw new Error(`"${part}" is not key=value`);
    if (!LOAD_TARGETS.includes(key)) throw new Error(`unknown target "${key}"; known: ${LOAD_TARGETS.join(', ')}`);
    if (key in targets) throw new Error(`target "${key}" is given twice`);
    const value = Number(raw);
    if (key === 'default' ? !(value > 0 && value <= 1) : !(value > 0 && Number.isFinite(value))) {
      throw new Error(key === 'default' ? `default must be a fraction in (0, 1], got ${raw}` : `${key} must be a positive number, got ${raw}`);
    }
    targets[key] = value;
  }
  return targets;
}

export function formatLoadTargets(targets) {
  return Object.entries(targets ?? { default: 0.8 }).map(([k, v]) => `${k}=${v}`).join(', ');
}

const INT = /^\d+$/;

/** A whole number within [low, high] as typed, or an error message. */
function whole(text, low, high) {
  return INT.test(text) && Number(text) >= low && Number(text) <= high ? null : `must be a whole number between ${low} and ${high}, got ${text}`;
}

/**
 * What the server's accelerators (GET /v1/accelerators) can hold, checked as Kiln.Core's Placement
 * checks a spec: a type and count some node holds (busy or not). An inventory without nodes is
 * unknown and refuses nothing. GPUs of an untyped pool ("GPU") take any GPU type.
 */
export function placement(inventory) {
  const nodes = inventory?.nodes ?? [];
  const unknown = nodes.length === 0;
  const holds = (node, type) => Math.max(0, ...(node.accelerators ?? [])
    .filter((p) => p.acceleratorType === type || (p.acceleratorType === 'GPU' && type !== 'CPU'))
    .map((p) => p.count));
  const most = (type) => Math.max(0, ...nodes.map((n) => holds(n, type)));
  const available = () => nodes.map((n) => `${n.node}: ${(n.accelerators ?? []).length
    ? n.accelerators.map((p) => `${p.count} x ${p.acceleratorType}`).join(', ') : 'nothing'}`).join('; ');
  return {
    unknown,
    types: unknown ? ACCELERATOR_TYPES : ACCELERATOR_TYPES.filter((t) => most(t) > 0),
    defaultType: inventory?.defaultAcceleratorType || 'CPU',
    most: (type) => (unknown ? Infinity : most(type)),
    available,
    /** Null when placeable, else [field, message] as the API words it. */
    check(type, count) {
      if (unknown || most(type) >= count) return null;
      const m = most(type);
      return m === 0
        ? ['acceleratorType', `no node holds ${type}; available: ${available()}`]
        : ['acceleratorCount', `no node holds ${count} x ${type} (at most ${m} on one node); available: ${available()}`];
    },
  };
}

// A check that spans two fields reports on the one the user changed, so an update never blames a
// field it does not send.
const PARTNERS = {
  minReplicaCount: ['maxReplicaCount'], maxReplicaCount: ['minReplicaCount'],
  acceleratorType: ['acceleratorCount'], acceleratorCount: ['acceleratorType'],
  draftTokenCount: ['draftModel', 'ngramSpeculationLength', 'engine'], ngramSpeculationLength: ['draftModel', 'draftTokenCount'],
  draftModel: ['ngramSpeculationLength', 'draftTokenCount'], engine: ['draftTokenCount'],
};

/**
 * Validates form values (strings, as typed) as the API validates the spec they make, and builds the
 * API body. The whole spec is checked (an update's form holds the current spec), but only fields in
 * `only` (all when absent) are sent, so an update sends what changed; an update that clears a
 * speculation field sends "" or 0, which removes it. `where` is the placement() of the server's
 * accelerators. Returns { body, errors } with errors keyed by form field.
 */
export function buildSpec(values, only, where = placement(null)) {
  const errors = {};
  const all = {};
  const policy = {};
  const blank = (k) => String(values[k] ?? '').trim() === '';
  const str = (k) => String(values[k] ?? '').trim();

  if (values.baseModel !== undefined) {
    if (!values.baseModel) errors.baseModel = 'choose a model';
    else all.baseModel = values.baseModel;
  }
  if (values.displayName !== undefined) {
    if (values.displayName.length > MAX_DISPLAY_NAME) errors.displayName = `is ${values.displayName.length} characters long; at most ${MAX_DISPLAY_NAME} are allowed`;
    else if (values.displayName !== '' || only) all.displayName = values.displayName;
  }
  if (values.description !== undefined) {
    if (values.description.length > MAX_DESCRIPTION) errors.description = `is ${values.description.length} characters long; at most ${MAX_DESCRIPTION} are allowed`;
    else if (values.description !== '' || only) all.description = values.description;
  }
  let min = 0;
  if (!blank('minReplicaCount')) {
    const problem = whole(str('minReplicaCount'), 0, REPLICA_LIMIT);
    if (problem) errors.minReplicaCount = problem;
    else { min = Number(str('minReplicaCount')); all.minReplicaCount = min; }
  }
  if (!blank('maxReplicaCount')) {
    const t = str('maxReplicaCount');
    const max = Number(t);
    if (!INT.test(t) || max < 1) errors.maxReplicaCount = `must be at least 1, got ${t}`;
    else if (max > REPLICA_LIMIT) errors.maxReplicaCount = `must be at most ${REPLICA_LIMIT}, got ${t}`;
    else if (!errors.minReplicaCount && max < min) errors.maxReplicaCount = `must be at least minReplicaCount (${min}), got ${t}`;
    else all.maxReplicaCount = max;
  }
  for (const key of ['scaleUpWindow', 'scaleDownWindow', 'scaleToZeroWindow']) {
    if (blank(key)) continue;
    try { policy[key] = protoDuration(parseDuration(values[key])); } catch (e) { errors[key] = e.message; }
  }
  if (!blank('loadTargets')) {
    try { policy.loadTargets = parseLoadTargets(values.loadTargets); } catch (e) { errors.loadTargets = e.message; }
  }
  const type = values.acceleratorType || where.defaultType;
  if (values.acceleratorType) {
    if (!ACCELERATOR_TYPES.includes(values.acceleratorType)) errors.acceleratorType = `unknown accelerator type ${values.acceleratorType}; known: ${ACCELERATOR_TYPES.join(', ')}`;
    else all.acceleratorType = values.acceleratorType;
  }
  let count = 1;
  if (!blank('acceleratorCount')) {
    count = Number(values.acceleratorCount);
    if (!ACCELERATOR_COUNTS.includes(count)) errors.acceleratorCount = `must be 1, 2, 4 or 8, got ${values.acceleratorCount}`;
    else all.acceleratorCount = count;
  }
  if (!errors.acceleratorType && !errors.acceleratorCount) {
    const refused = where.check(type, count);
    if (refused) errors[refused[0]] = refused[1];
  }
  if (!blank('unusedAutoDeleteDuration')) {
    try { all.unusedAutoDeleteDuration = protoDuration(parseDuration(values.unusedAutoDeleteDuration)); } catch (e) { errors.unusedAutoDeleteDuration = e.message; }
  }
  if (values.enableAddons !== undefined) all.enableAddons = Boolean(values.enableAddons);
  if (values.precision) {
    if (!PRECISIONS.includes(values.precision)) errors.precision = `unknown precision ${values.precision}`;
    else all.precision = values.precision;
  }
  engine(values, all, errors, Boolean(only));
  speculation(values, all, errors, Boolean(only));
  shapeAndLimits(values, all, errors, Boolean(only));
  if (!only && all.deploymentShape) {
    // A shape fixes these: ones left at the form's defaults are not sent, so they do not contradict it.
    if (!values.acceleratorType || values.acceleratorType === where.defaultType) delete all.acceleratorType;
    if (Number(values.acceleratorCount) === DEFAULTS.acceleratorCount) delete all.acceleratorCount;
    if (values.precision === DEFAULTS.precision) delete all.precision;
    if (String(values.engine ?? '').trim() === DEFAULTS.engine) delete all.engine;
    if (!values.enableAddons) delete all.enableAddons;
  }

  const want = (k) => !only || only.has(k);
  const body = Object.fromEntries(Object.entries(all).filter(([k]) => want(k)));
  const sentPolicy = Object.fromEntries(Object.entries(policy).filter(([k]) => want(k)));
  if (Object.keys(sentPolicy).length) body.autoscalingPolicy = sentPolicy;
  if (!only) return { body, errors };
  const shown = {};
  for (const [k, message] of Object.entries(errors)) {
    const at = want(k) ? k : (PARTNERS[k] ?? []).find(want);
    if (at && !shown[at]) shown[at] = message;
  }
  return { body, errors: shown };
}

/** The engine and its extra arguments (one per line), checked as DeploymentSpecValidator checks them. */
function engine(values, all, errors, update) {
  if (values.engine !== undefined) {
    const name = String(values.engine).trim();
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) errors.engine = `"${name}" is not an engine name (lowercase letters, digits and '-', starting with a letter)`;
    else all.engine = name;
  }
  if (values.engineArgs !== undefined) {
    const args = String(values.engineArgs).split('\n').map((x) => x.trim()).filter(Boolean);
    const long = args.findIndex((x) => x.length > MAX_ENGINE_ARG_LENGTH);
    if (args.length > MAX_ENGINE_ARGS) errors.engineArgs = `holds ${args.length} arguments; at most ${MAX_ENGINE_ARGS} are allowed`;
    else if (long >= 0) errors.engineArgs = `argument ${long + 1} must be 1 to ${MAX_ENGINE_ARG_LENGTH} characters`;
    // An update's list replaces the old one, so an emptied list is sent to clear it.
    else if (args.length || update) all.engineArgs = args;
  }
}

/** The deployment shape, the prefix-cache budget and the addon limit, checked as the API checks them. */
function shapeAndLimits(values, all, errors, update) {
  const shape = String(values.deploymentShape ?? '').trim();
  // "" on update drops the shape; the server resolves and checks the name itself.
  if (shape || (update && values.deploymentShape !== undefined)) all.deploymentShape = shape;
  const cache = String(values.prefixCacheMb ?? '').trim();
  if (cache !== '') {
    const problem = whole(cache, 0, MAX_PREFIX_CACHE_MB);
    if (problem) errors.prefixCacheMb = problem.replace('whole number between 0', 'whole number between 0 (off)');
    else if (String(values.engine ?? 'kiln').trim() !== 'kiln') {
      errors.prefixCacheMb = `is a setting of Kiln's engine; engine "${String(values.engine).trim()}" takes its own cache flags in engineArgs`;
    } else all.prefixCacheMb = Number(cache);
  }
  const addons = String(values.maxAddonCount ?? '').trim();
  if (addons !== '') {
    const problem = whole(addons, 1, MAX_ADDON_COUNT);
    if (problem) errors.maxAddonCount = problem;
    else all.maxAddonCount = Number(addons);
  }
}

/** The speculation fields, checked as Kiln.Core's Speculation.Validate checks them. */
function speculation(values, all, errors, update) {
  const draft = String(values.draftModel ?? '');
  const ngramText = String(values.ngramSpeculationLength ?? '').trim();
  const countText = String(values.draftTokenCount ?? '').trim();
  const ngram = ngramText !== '';
  const count = countText !== '';
  if (draft || update) all.draftModel = draft;
  if (ngram) {
    const problem = whole(ngramText, 1, MAX_NGRAM_LENGTH);
    if (problem) errors.ngramSpeculationLength = problem;
    else all.ngramSpeculationLength = Number(ngramText);
  } else if (update) all.ngramSpeculationLength = 0;
  if (draft && ngram) errors.ngramSpeculationLength = 'cannot be used together with draftModel: choose a draft model or n-gram speculation';
  if (count) {
    const problem = whole(countText, 1, MAX_DRAFT_TOKENS);
    if (problem) errors.draftTokenCount = problem;
    else all.draftTokenCount = Number(countText);
  } else if (update) all.draftTokenCount = 0;
  if (!count && (draft || ngram)) errors.draftTokenCount = 'is required with draftModel or ngramSpeculationLength (tokens proposed per step, typically 4)';
  if (count && !draft && !ngram) errors.draftTokenCount = 'needs draftModel or ngramSpeculationLength to propose the tokens';
  // Speculation.EngineRefusal: only Kiln's own engine reads these fields.
  const name = String(values.engine ?? 'kiln').trim();
  if ((draft || ngram || count) && name !== 'kiln' && !errors.draftTokenCount) {
    errors.draftTokenCount = `engine "${name}" does not take Kiln's speculation settings; pass the engine's own speculation flags in engineArgs instead`;
  }
}

/**
 * The API's INVALID_ARGUMENT message ("field: what; other.field: what") split by the form fields it
 * names, so each part is shown next to its field. A part that names no field stays with the one
 * before it (messages such as "...; available: ..." contain "; " themselves); null when the message
 * names none of `fields`.
 */
export function serverFieldErrors(message, fields) {
  const out = {};
  let last = null;
  for (const part of String(message ?? '').split('; ')) {
    const m = /^([A-Za-z]+(?:\.[A-Za-z_]+)*(?:\[\d+\])?): ([\s\S]*)$/.exec(part);
    const key = m ? formField(m[1]) : null;
    if (key && fields.includes(key)) {
      last = key;
      out[key] = out[key] ? `${out[key]}; ${m[2]}` : m[2];
    } else if (last) {
      out[last] += `; ${part}`;
    }
  }
  return last ? out : null;
}

/** "autoscalingPolicy.loadTargets.default" -> "loadTargets"; "draftModel" -> "draftModel". */
function formField(path) {
  const [head, next] = path.replace(/\[\d+\]$/, '').split('.');
  return head === 'autoscalingPolicy' && next ? next : head;
}

const ID_RULE = 'IDs are 1-63 characters of lowercase letters, digits and hyphens, start with a letter and do not end with a hyphen';

/** Null when the ID follows the API's rule (empty means "let the server choose"). */
export function idProblem(value, optional = true) {
  if (!value) return optional ? null : `is required (${ID_RULE})`;
  return /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(value) ? null : ID_RULE;
}
