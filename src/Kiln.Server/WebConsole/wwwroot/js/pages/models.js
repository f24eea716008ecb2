// Models and addons: the list, importing a GGUF (uploaded from this computer with progress, or
// downloaded by the server from a URL or the catalog, with its progress until READY or FAILED),
// uploading an addon (LoRA GGUF or PEFT folder), deploying addons onto deployments and undeploying.
import { acct, all, del, get, post, upload } from '../api.js';
import { addonProblem, badge, bytes, field, fill, h, id, option, setFieldError, table, toast } from '../dom.js';
import { goDuration, idProblem } from '../spec.js';

export function render() {
  let models = [];
  let deployments = [];
  let deployed = [];
  const list = h('div');
  // Downloads started here: model ID -> the import form's report, updated from each refresh.
  const watched = new Map();
  const importBox = h('details', { class: 'card' }, h('summary', {}, 'Import a model'),
    importForm((modelId, report) => { watched.set(modelId, report); view.refresh(); }));
  const addonBox = h('details', { class: 'card' }, h('summary', {}, 'Upload an addon (LoRA)'));
  addonBox.addEventListener('toggle', () => {
    if (addonBox.open && addonBox.children.length === 1) addonBox.append(addonForm(() => models));
  });

  function draw() {
    const rows = models.map((m) => {
      const isAddon = m.kind === 'HF_PEFT_ADDON';
      const on = deployed.filter((x) => x.model === m.name);
      return h('tr', { dataset: { model: id(m.name) } },
        h('th', { scope: 'row' }, id(m.name), m.displayName && m.displayName !== id(m.name) ? h('div', { class: 'sub' }, m.displayName) : null),
        h('td', {}, isAddon ? 'addon' : 'base'),
        h('td', { class: 'wrap' }, badge(m.state), m.state === 'DOWNLOADING' ? downloadProgress(m) : null,
          m.status?.message ? h('div', { class: m.state === 'FAILED' ? 'sub error' : 'sub' }, m.state === 'FAILED' ? `${m.status.code}: ${m.status.message}` : m.status.message) : null),
        h('td', { class: 'wrap' }, m.baseModel ?? m.architecture ?? '—'),
        h('td', {}, m.state === 'DOWNLOADING' || m.state === 'FAILED' ? '—' : bytes(Number(m.sizeBytes))),
        h('td', { class: 'wrap' }, on.length ? on.map((x) => h('div', { dataset: { deployment: id(x.deployment) } }, `${id(x.deployment)} (${x.state}) `,
          x.state === 'UNDEPLOYING' ? null : h('button', { type: 'button', class: 'secondary small', onclick: () => undeploy(x) }, 'Undeploy'), addonProblem(x)))
          : (m.deployedModelRefs ?? []).map((r) => h('div', {}, id(r.deployment ?? r.name)))),
        h('td', { class: 'actions-cell' }, isAddon && m.state !== 'UPLOADING' ? deployControl(m) : null,
          h('button', { type: 'button', class: 'danger small', onclick: () => remove(m) }, 'Delete')));
    });
    fill(list, table(['Model', 'Kind', 'State', 'Base / architecture', 'Size', 'Deployed on', ''], rows, `${models.length} models`));
  }

  function deployControl(m) {
    const base = m.baseModel;
    const fits = deployments.filter((d) => d.baseModel === base && d.enableAddons && d.state !== 'DELETED' && d.state !== 'DELETING');
    const pick = h('select', { 'aria-label': `Deployment for ${id(m.name)}` },
      fits.length ? fits.map((d) => option(id(d.name))) : option('', 'no deployment of its base with addons'));
    return h('span', { class: 'inline' }, pick, h('button', { type: 'button', class: 'small', disabled: !fits.length, onclick: async () => {
      try {
        await post(acct('deployedModels'), { model: m.name, deployment: pick.value });
        toast(`Deploying ${id(m.name)} onto ${pick.value}.`);
        view.refresh();
      } catch (err) { toast(err.message, 'error'); }
    } }, 'Deploy'));
  }

  async function undeploy(x) {
    try { await del(acct(`deployedModels/${id(x.name)}`)); toast(`Undeploying ${id(x.model)}.`); view.refresh(); } catch (err) { toast(err.message, 'error'); }
  }

  async function remove(m) {
    if (!confirm(`Delete model ${id(m.name)} and its file?`)) return;
    try { await del(acct(`models/${id(m.name)}`)); toast(`Deleted ${id(m.name)}.`); view.refresh(); } catch (err) { toast(err.message, 'error'); }
  }

  const view = {
    title: 'Models & addons',
    element: h('section', { class: 'page', 'aria-labelledby': 'page-title' },
      h('h1', { id: 'page-title' }, 'Models & addons'), importBox, addonBox, list),
    async refresh() {
      [models, deployments, deployed] = await Promise.all([
        all(acct('models'), 'models'), all(acct('deployments'), 'deployments'), all(acct('deployedModels'), 'deployedModels')]);
      for (const [modelId, report] of watched) {
        const m = models.find((x) => id(x.name) === modelId);
        if (!m || report(m)) watched.delete(modelId);
      }
      // Keep a deploy picker that has focus (a redraw would close it and lose the choice); a focused
      // button, e.g. the Deploy just pressed, must not hold back the state it changed.
      const picking = list.contains(document.activeElement) && document.activeElement.tagName === 'SELECT';
      if (!picking) draw();
    },
    // Downloads report progress once a second: follow them closely while one runs.
    pollMs: () => (models.some((m) => m.state === 'DOWNLOADING') ? 1000 : undefined),
  };
  return view;
}

function progressRow(label = 'Upload progress') {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': label });
  const text = h('span', { class: 'sub' });
  const element = h('div', { class: 'progress', hidden: true }, bar, text);
  return {
    element,
    /** Bytes done of total (unknown: an indeterminate bar), then `extra` words. */
    show(done, total, extra = '') {
      element.hidden = false;
      if (total > 0) { bar.max = total; bar.value = done; } else bar.removeAttribute('value');
      text.textContent = ` ${bytes(done)}${total > 0 ? ` of ${bytes(total)}` : ''}${extra}`;
    },
    hide() { element.hidden = true; },
  };
}

/** A DOWNLOADING model's progress: bytes so far, the rate and the time left, as the server reports them. */
function downloadWords(download) {
  const d = download ?? {};
  const parts = [];
  if (Number(d.bytesPerSecond) > 0) parts.push(`${bytes(Number(d.bytesPerSecond))}/s`);
  if (d.eta) parts.push(`${goDuration(d.eta)} left`);
  return parts.length ? ` · ${parts.join(' · ')}` : ' · waiting for the rate';
}

function downloadProgress(m) {
  const row = progressRow(`Download progress of ${id(m.name)}`);
  row.show(Number(m.download?.receivedBytes ?? 0), Number(m.download?.totalBytes ?? 0), downloadWords(m.download));
  row.element.classList.add('download');
  return row.element;
}

/** Creates the model, streams the file, and deletes the half-made model when the upload fails (as kilnctl does). */
async function createAndUpload(modelId, body, files, progress, validate = false) {
  await post(acct(`models?modelId=${encodeURIComponent(modelId)}`), body);
  try {
    let answer = null;
    // One bar over every file's bytes.
    const total = files.reduce((sum, [, file]) => sum + file.size, 0);
    let before = 0;
    for (const [query, file] of files) {
      answer = await upload(acct(`models/${modelId}:upload${query}`), file, (d) => progress.show(before + d, total));
      before += file.size;
    }
    // A folder's files arrive one by one; the server checks them together.
    if (validate) answer = await post(acct(`models/${modelId}:validateUpload`), {});
    return answer;
  } catch (err) {
    await del(acct(`models/${modelId}`)).catch(() => {});
    throw err;
  }
}

/**
 * A form that creates a model and uploads its files: collect() returns { id, body, parts } (parts:
 * [query, file] pairs), or null once it has marked what is wrong.
 */
function uploadForm(fields, collect, { button, busy, done }) {
  const progress = progressRow();
  const status = h('p', { class: 'form-status', role: 'status' });
  return h('form', { class: 'spec-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const job = collect();
    if (!job) return;
    status.textContent = busy;
    try {
      const m = await createAndUpload(job.id, job.body, job.parts, progress);
      status.textContent = `${done} ${m.name} (${m.state}).`;
      toast(`${done} ${m.name}.`);
    } catch (err) { status.textContent = `The server refused: ${err.message}`; }
  } }, h('div', { class: 'grid' }, fields), progress.element, h('div', { class: 'actions' }, h('button', { type: 'submit' }, button)), status);
}

const SOURCES = [
  ['file', 'A file on this computer'],
  ['folder', 'A Hugging Face folder on this computer'],
  ['url', 'A URL'],
  ['catalog', 'The catalog'],
];

/** A model ID made from a catalog ID (which may hold '.' and '_'), as a suggestion. */
function idFromCatalog(catalogId) {
  const s = catalogId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 63).replace(/-+$/, '');
  return s || 'model';
}

/**
 * Imports a model: uploads a file (with upload progress), or asks the server to download a URL or
 * a catalog entry; a download is then followed through onDownload(modelId, report), where report(m)
 * shows the model's progress and returns true once it is READY or FAILED.
 */
function importForm(onDownload) {
  const source = h('select', { name: 'source' }, SOURCES.map(([v, label]) => option(v, label, v === 'file')));
  const modelId = h('input', { type: 'text', name: 'modelId', autocomplete: 'off', spellcheck: false });
  const displayName = h('input', { type: 'text', name: 'displayName', autocomplete: 'off' });
  const file = h('input', { type: 'file', name: 'file', accept: '.gguf' });
  const folder = h('input', { type: 'file', name: 'folder', multiple: true, webkitdirectory: true });
  const url = h('input', { type: 'text', name: 'url', autocomplete: 'off', spellcheck: false, inputMode: 'url' });
  const sha256 = h('input', { type: 'text', name: 'sha256', autocomplete: 'off', spellcheck: false });
  const catalog = h('select', { name: 'catalog' }, option('', 'Loading the catalog…'));
  const about = h('p', { class: 'sub catalog-about' });
  let entries = null;

  const fileField = field('GGUF file', file, 'Read from this computer and streamed to the server.');
  const folderField = field('Model folder', folder, 'config.json and the *.safetensors weights (for engines such as vLLM and SGLang); each file of the folder itself is sent, then the server checks them together.');
  const urlField = field('URL', url, 'https://, http:// or hf://owner/repo[@revision]/file.gguf; the server downloads it, resuming where a connection broke off.');
  const shaField = field('SHA-256 (optional)', sha256, 'The digest the file must have; else the one its source publishes.');
  const catalogField = field('Catalog entry', catalog);
  catalogField.append(about);
  const bySource = { file: [fileField], folder: [folderField], url: [urlField, shaField], catalog: [catalogField] };

  function describe() {
    const e = entries?.find((x) => x.id === catalog.value);
    about.textContent = e ? [e.description, `${e.architecture}, ${e.quantization}`, e.sizeBytes ? `${e.sizeIsApproximate ? 'about ' : ''}${bytes(Number(e.sizeBytes))}` : null,
      `context ${e.contextLength}`, e.chatTemplate ? 'chat template' : 'no chat template', `license ${e.license}`].filter(Boolean).join(' · ') : '';
    // The entry's ID makes the model ID unless one was typed.
    if (e && (!modelId.value || modelId.dataset.suggested === modelId.value)) {
      modelId.value = idFromCatalog(e.id);
      modelId.dataset.suggested = modelId.value;
    }
  }
  catalog.addEventListener('change', describe);

  async function loadCatalog() {
    if (entries) return;
    try {
      entries = (await get('/v1/catalog')).models ?? [];
      fill(catalog, option('', entries.length ? 'Choose an entry…' : 'The catalog is empty'),
        entries.map((e) => option(e.id, `${e.name} (${e.id}, ${e.quantization}${e.sizeBytes ? `, ${bytes(Number(e.sizeBytes))}` : ''})`)));
      setFieldError(catalog, null);
    } catch (err) {
      setFieldError(catalog, `could not read the catalog: ${err.message}`);
    }
  }

  function pick() {
    for (const [k, els] of Object.entries(bySource)) for (const el of els) el.hidden = k !== source.value;
    if (source.value === 'catalog') loadCatalog();
  }
  source.addEventListener('change', pick);
  pick();

  const progress = progressRow();
  const status = h('p', { class: 'form-status', role: 'status' });
  const button = h('button', { type: 'submit' }, 'Import');

  function collect() {
    const kind = source.value;
    const idProblemText = idProblem(modelId.value, false);
    setFieldError(modelId, idProblemText);
    let body = displayName.value ? { displayName: displayName.value } : {};
    let ok = !idProblemText;
    if (kind === 'file') {
      setFieldError(file, file.files.length ? null : 'choose a .gguf file');
      ok &&= file.files.length > 0;
      return ok ? { id: modelId.value, body, parts: [['', file.files[0]]] } : null;
    }
    if (kind === 'folder') {
      const parts = folderParts(folder.files);
      const problem = !folder.files.length ? 'choose a folder'
        : !parts.some(([q]) => q === '?file=config.json') || !parts.some(([q]) => q.endsWith('.safetensors'))
          ? 'a Hugging Face model folder holds config.json and at least one .safetensors file' : null;
      setFieldError(folder, problem);
      ok &&= !problem;
      return ok ? { id: modelId.value, body: { ...body, format: 'HF_SAFETENSORS' }, parts, validate: true } : null;
    }
    if (kind === 'url') {
      // As the API reads a source: an http(s) URL or an hf:// file; a catalog ID has its own choice.
      const u = url.value.trim();
      const urlProblem = !u ? 'enter a URL'
        : /^(https?:\/\/[^\s/]+|hf:\/\/[^\s/]+\/[^\s/]+\/\S+\.gguf$)/i.test(u) ? null
          : 'must be an http(s):// URL or hf://<owner>/<repo>[@<revision>]/<file>.gguf';
      const sha = sha256.value.trim().toLowerCase();
      const shaProblem = sha && !/^[0-9a-f]{64}$/.test(sha) ? 'must be 64 hex digits' : null;
      setFieldError(url, urlProblem);
      setFieldError(sha256, shaProblem);
      ok &&= !urlProblem && !shaProblem;
      body = { ...body, source: u, ...(sha ? { sha256: sha } : {}) };
      return ok ? { id: modelId.value, body } : null;
    }
    setFieldError(catalog, catalog.value ? null : 'choose an entry');
    ok &&= Boolean(catalog.value);
    return ok ? { id: modelId.value, body: { ...body, source: catalog.value } } : null;
  }

  return h('form', { class: 'spec-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const job = collect();
    if (!job) { status.textContent = 'Fix the fields marked above.'; return; }
    progress.hide();
    button.disabled = true;
    try {
      if (job.parts) {
        status.textContent = 'Uploading; the server checks every tensor before it answers…';
        const m = await createAndUpload(job.id, job.body, job.parts, progress, job.validate);
        status.textContent = `Imported ${m.name} (${m.state}).`;
        toast(`Imported ${m.name}.`);
        return;
      }
      const m = await post(acct(`models?modelId=${encodeURIComponent(job.id)}`), job.body);
      status.textContent = `Downloading ${m.name}…`;
      progress.show(0, 0, ' · starting');
      onDownload(job.id, (now) => {
        if (now.state === 'DOWNLOADING') {
          progress.show(Number(now.download?.receivedBytes ?? 0), Number(now.download?.totalBytes ?? 0), downloadWords(now.download));
          return false;
        }
        progress.hide();
        status.textContent = now.state === 'FAILED'
          ? `The download of ${now.name} failed: ${now.status?.code ?? 'FAILED'}: ${now.status?.message ?? 'no reason given'}`
          : `Imported ${now.name} (${now.state})${now.status?.message ? `: ${now.status.message}` : ''}.`;
        return true;
      });
    } catch (err) {
      status.textContent = `The server refused: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  } }, h('div', { class: 'grid' }, field('Import from', source), field('Model ID', modelId, 'Lowercase letters, digits and hyphens.'),
    field('Display name', displayName), fileField, folderField, urlField, shaField, catalogField),
  progress.element, h('div', { class: 'actions' }, button), status);
}

/** The [query, file] uploads of a chosen folder: its own plain files, not hidden ones or subfolders'. */
function folderParts(files) {
  return [...files]
    .map((f) => [f.webkitRelativePath.split('/'), f])
    .filter(([path]) => path.length === 2 && !path[1].startsWith('.'))
    .map(([path, f]) => [`?file=${encodeURIComponent(path[1])}`, f]);
}

function addonForm(getModels) {
  const modelId = h('input', { type: 'text', name: 'addonId', autocomplete: 'off', spellcheck: false });
  const bases = getModels().filter((m) => m.kind !== 'HF_PEFT_ADDON' && m.state !== 'UPLOADING');
  const base = h('select', { name: 'baseModel' }, option('', bases.length ? 'Choose a base model…' : 'No READY base model'), bases.map((m) => option(m.name)));
  const files = h('input', { type: 'file', name: 'files', multiple: true, accept: '.gguf,.json,.safetensors' });
  return uploadForm([
    field('Addon ID', modelId),
    field('Base model', base),
    field('Files', files, 'A llama.cpp LoRA .gguf, or a PEFT folder\'s two files.'),
  ], () => {
    const problem = idProblem(modelId.value, false);
    setFieldError(modelId, problem);
    setFieldError(base, base.value ? null : 'choose the base model the addon adapts');
    const chosen = [...files.files];
    const gguf = chosen.filter((f) => f.name.endsWith('.gguf'));
    const config = chosen.find((f) => f.name === 'adapter_config.json');
    const weights = chosen.find((f) => f.name === 'adapter_model.safetensors');
    let parts = null;
    if (gguf.length === 1 && chosen.length === 1) parts = [['', gguf[0]]];
    else if (config && weights && chosen.length === 2) parts = [['?file=adapter_config.json', config], ['?file=adapter_model.safetensors', weights]];
    setFieldError(files, parts ? null : 'choose one LoRA .gguf, or adapter_config.json and adapter_model.safetensors of a PEFT folder');
    if (problem || !base.value || !parts) return null;
    return { id: modelId.value, body: { kind: 'HF_PEFT_ADDON', baseModel: base.value }, parts };
  }, { button: 'Upload addon', busy: 'Uploading; the server checks the addon against its base…', done: 'Uploaded' });
}
