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

export const DEFAULTS = {
  displayName: '',
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

/**
 * Validates form values (strings, as typed) and builds the API body. Only fields in `only` (all
 * when absent) are checked and sent, so an update sends what changed. Returns { body, errors }
 * with errors keyed by form field.
 */
export function buildSpec(values, only) {
  const errors = {};
  const body = {};
  const want = (k) => !only || only.has(k);
  const policy = {};

  if (want('baseModel')) {
    if (!values.baseModel) errors.baseModel = 'choose a model';
    else body.baseModel = values.baseModel;
  }
  if (want('displayName') && values.displayName !== undefined) {
    if (values.displayName.length > MAX_DISPLAY_NAME) errors.displayName = `is ${values.displayName.length} characters long; at most ${MAX_DISPLAY_NAME} are allowed`;
    else if (values.displayName !== '') body.displayName = values.displayName;
  }
  let min = 0;
  if (want('minReplicaCount')) {
    const t = String(values.minReplicaCount ?? '').trim();
    if (t !== '') {
      if (!INT.test(t) || Number(t) > REPLICA_LIMIT) errors.minReplicaCount = `must be a whole number between 0 and ${REPLICA_LIMIT}`;
      else { min = Number(t); body.minReplicaCount = min; }
    }
  }
  if (want('maxReplicaCount')) {
    const t = String(values.maxReplicaCount ?? '').trim();
    if (t !== '') {
      const max = Number(t);
      if (!INT.test(t) || max < 1) errors.maxReplicaCount = 'must be a whole number of at least 1';
      else if (max > REPLICA_LIMIT) errors.maxReplicaCount = `must be at most ${REPLICA_LIMIT}`;
      else if (body.minReplicaCount !== undefined && max < min) errors.maxReplicaCount = `must be at least minReplicaCount (${min})`;
      else body.maxReplicaCount = max;
    }
  }
  for (const key of ['scaleUpWindow', 'scaleDownWindow', 'scaleToZeroWindow']) {
    if (!want(key) || String(values[key] ?? '').trim() === '') continue;
    try { policy[key] = protoDuration(parseDuration(values[key])); } catch (e) { errors[key] = e.message; }
  }
  if (want('loadTargets') && String(values.loadTargets ?? '').trim() !== '') {
    try { policy.loadTargets = parseLoadTargets(values.loadTargets); } catch (e) { errors.loadTargets = e.message; }
  }
  if (Object.keys(policy).length) body.autoscalingPolicy = policy;
  if (want('acceleratorType') && values.acceleratorType) {
    if (!ACCELERATOR_TYPES.includes(values.acceleratorType)) errors.acceleratorType = `unknown accelerator type ${values.acceleratorType}`;
    else body.acceleratorType = values.acceleratorType;
  }
  if (want('acceleratorCount') && values.acceleratorCount !== undefined && values.acceleratorCount !== '') {
    const n = Number(values.acceleratorCount);
    if (!ACCELERATOR_COUNTS.includes(n)) errors.acceleratorCount = 'must be 1, 2, 4 or 8';
    else body.acceleratorCount = n;
  }
  if (want('unusedAutoDeleteDuration') && String(values.unusedAutoDeleteDuration ?? '').trim() !== '') {
    try { body.unusedAutoDeleteDuration = protoDuration(parseDuration(values.unusedAutoDeleteDuration)); } catch (e) { errors.unusedAutoDeleteDuration = e.message; }
  }
  if (want('enableAddons') && values.enableAddons !== undefined) body.enableAddons = Boolean(values.enableAddons);
  if (want('precision') && values.precision) {
    if (!PRECISIONS.includes(values.precision)) errors.precision = `unknown precision ${values.precision}`;
    else body.precision = values.precision;
  }
  return { body, errors };
}

const ID_RULE = 'IDs are 1-63 characters of lowercase letters, digits and hyphens, start with a letter and do not end with a hyphen';

/** Null when the ID follows the API's rule (empty means "let the server choose"). */
export function idProblem(value, optional = true) {
  if (!value) return optional ? null : `is required (${ID_RULE})`;
  return /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(value) ? null : ID_RULE;
}
