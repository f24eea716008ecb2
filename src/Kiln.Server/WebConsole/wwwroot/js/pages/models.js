// Models and addons: the list, importing a GGUF (uploaded from this computer, with progress),
// uploading an addon (LoRA GGUF or PEFT folder), deploying addons onto deployments and undeploying.
import { acct, all, del, post, upload } from '../api.js';
import { badge, bytes, field, fill, h, id, option, setFieldError, table, toast } from '../dom.js';
import { idProblem } from '../spec.js';

export function render() {
  let models = [];
  let deployments = [];
  let deployed = [];
  const list = h('div');
  const importBox = h('details', { class: 'card' }, h('summary', {}, 'Import a model'), importForm());
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
        h('td', {}, badge(m.state)),
        h('td', { class: 'wrap' }, m.baseModel ?? m.architecture ?? '—'),
        h('td', {}, bytes(Number(m.sizeBytes))),
        h('td', { class: 'wrap' }, on.length ? on.map((x) => h('div', {}, `${id(x.deployment)} (${x.state}) `,
          x.state === 'UNDEPLOYING' ? null : h('button', { type: 'button', class: 'secondary small', onclick: () => undeploy(x) }, 'Undeploy')))
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
      // Keep a deploy picker that has focus: redraw only when nothing in the table is being used.
      if (!list.contains(document.activeElement) || document.activeElement === document.body) draw();
    },
  };
  return view;
}

function progressRow() {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Upload progress' });
  const text = h('span', { class: 'sub' });
  return { element: h('div', { class: 'progress', hidden: true }, bar, text), show(done, total) {
    this.element.hidden = false; bar.max = total; bar.value = done; text.textContent = ` ${bytes(done)} of ${bytes(total)}`;
  } };
}

/** Creates the model, streams the file, and deletes the half-made model when the upload fails (as kilnctl does). */
async function createAndUpload(modelId, body, files, progress) {
  await post(acct(`models?modelId=${encodeURIComponent(modelId)}`), body);
  try {
    let answer = null;
    for (const [query, file] of files) answer = await upload(acct(`models/${modelId}:upload${query}`), file, (d, t) => progress.show(d, t));
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

function importForm() {
  const modelId = h('input', { type: 'text', name: 'modelId', autocomplete: 'off', spellcheck: false });
  const displayName = h('input', { type: 'text', name: 'displayName', autocomplete: 'off' });
  const file = h('input', { type: 'file', name: 'file', accept: '.gguf' });
  return uploadForm([
    field('Model ID', modelId, 'Lowercase letters, digits and hyphens.'),
    field('Display name', displayName),
    field('GGUF file', file, 'Read from this computer and streamed to the server.'),
  ], () => {
    const problem = idProblem(modelId.value, false);
    setFieldError(modelId, problem);
    setFieldError(file, file.files.length ? null : 'choose a .gguf file');
    if (problem || !file.files.length) return null;
    return { id: modelId.value, body: displayName.value ? { displayName: displayName.value } : {}, parts: [['', file.files[0]]] };
  }, { button: 'Import', busy: 'Uploading; the server checks every tensor before it answers…', done: 'Imported' });
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
