// The page around the model: controls, the URL (the shareable state), the status line, and the
// frame loop. The model, the GPU and the picture live in the wasm module (web/src).

import init, { start } from './glassbox.js';
import { attachInput } from './input.js';
import { fromFiles, fromUrl } from './models.js';
import { attachAttention, renderAttention, renderTop } from './panels.js';
import { attachPlayground } from './playground.js';
import { attachTour } from './tour.js';

const $ = (id) => document.getElementById(id);
const statusElement = $('status');
const canvas = $('view');

let page = null;
let status = null;
// Calls into the model run one at a time, in order: it is busy while one runs.
let queue = Promise.resolve();
let frameDirty = true;
const frameTimes = [];
// What the URL's query names as the model (kept in links); null for the built-in one.
let modelSource = null;
// The walkthrough and playground panels, once the model is up.
let tour = null;
let playground = null;

function enqueue(work) {
  const result = queue.then(work);
  queue = result.catch(() => {});
  return result;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

// The URL carries the view: ?model=SOURCE#prompt=TEXT&chapter=C&paragraph=P&op=N
// &camera=yaw,pitch,distance,x,y,z&kernels=family:variant,...&kv=1&diff=1
function readUrl() {
  const query = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  const number = (name) => (hash.has(name) ? Number(hash.get(name)) : null);
  return {
    model: query.get('model'),
    prompt: hash.get('prompt'),
    chapter: number('chapter'),
    paragraph: number('paragraph') ?? 0,
    op: number('op'),
    camera: hash.get('camera'),
    kernels: (hash.get('kernels') ?? '').split(',').filter(Boolean).map((k) => k.split(':')),
    kv: hash.get('kv') === '1',
    fill: hash.get('fill') === '1',
    diff: hash.get('diff') === '1',
  };
}


function link() {
  const url = new URL(location.href);
  url.search = modelSource ? `?model=${encodeURIComponent(modelSource)}` : '';
  const hash = new URLSearchParams();
  if (status) {
    hash.set('prompt', status.prompt);
    if (status.narrative) {
      hash.set('chapter', String(status.narrative.chapter));
      hash.set('paragraph', String(status.narrative.paragraph));
    } else if (status.ops_run !== status.ops_total) {
      hash.set('op', String(status.ops_run));
    }
    if (status.kernel_choices.length) hash.set('kernels', status.kernel_choices.join(','));
    if (status.kv_cache) hash.set('kv', '1');
    if (status.fill) hash.set('fill', '1');
    if (status.differences) hash.set('diff', '1');
  }
  const camera = page?.camera();
  if (camera) hash.set('camera', camera);
  url.hash = hash.toString();
  return url.toString();
}

let urlTimer = 0;
function updateUrl() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => history.replaceState(null, '', link()), 250);
}

function percent(p) {
  return `${(100 * p).toFixed(1)}%`;
}

// One readable sentence of what the model shows.
function sentence(s) {
  const reached = s.ops_run === s.ops_total
    ? `all ${s.ops_total} ops have run`
    : `${s.ops_run} of ${s.ops_total} ops have run${s.current_op ? `, the last ${s.current_op}` : ''}`;
  const prediction = s.prediction !== null
    ? `; the model predicts "${s.prediction}" next with probability ${percent(s.probability)}`
    : '';
  return `${s.model}, prompt "${s.prompt}" (${s.tokens.length} tokens): ${reached}${prediction}.`;
}

function showStatus(json) {
  status = JSON.parse(json);
  status.frame_ms = averageFrame();
  statusElement.dataset.state = JSON.stringify(status);
  statusElement.textContent = sentence(status);
  $('model-name').textContent = `${status.model} · ${status.adapter}`;
  $('tokens').replaceChildren(...status.tokens.map((t) => {
    const span = document.createElement('span');
    span.textContent = t;
    return span;
  }));
  $('prediction').innerHTML = '';
  if (status.prediction !== null) {
    const b = document.createElement('b');
    b.textContent = JSON.stringify(status.prediction);
    $('prediction').append(b, ` with probability ${percent(status.probability)}`);
  } else {
    $('prediction').textContent = 'run every op to see it';
  }
  const op = $('op');
  op.max = String(status.ops_total);
  op.value = String(status.ops_run);
  $('op-label').textContent = status.current_op
    ? `op ${status.ops_run} of ${status.ops_total}: ${status.current_op} — ${status.current_formula}`
    : `${status.ops_run} of ${status.ops_total} ops run`;
  if (document.activeElement !== $('prompt')) $('prompt').value = status.prompt;
  const select = $('camera');
  if (select.options.length !== status.cameras.length) {
    select.replaceChildren(...status.cameras.map((name) => new Option(name, name)));
  }
  renderTop(status);
  renderAttention(status);
  tour?.render(status);
  playground?.render(status);
  frameDirty = true;
  updateUrl();
}

function averageFrame() {
  if (!frameTimes.length) return null;
  return frameTimes.reduce((a, b) => a + b, 0) / frameTimes.length;
}

function run(call) {
  return enqueue(async () => {
    try {
      showStatus(await call());
      clearError();
    } catch (e) {
      showError(String(e.message ?? e));
      throw e;
    }
  });
}

function setPrompt(text) {
  return run(() => page.run_prompt(text));
}

// The op the player was last asked for: clicks that come faster than the GPU runs add up.
let requestedOp = null;

function step(op) {
  requestedOp = Math.max(0, Math.min(op, status.ops_total));
  const wanted = requestedOp;
  return run(() => page.step(wanted)).finally(() => {
    if (requestedOp === wanted) requestedOp = null;
  });
}

function stepBy(delta) {
  return step((requestedOp ?? status.ops_run) + delta);
}

// Streams a model's weights into the GPU, piece by piece, with a progress bar; `open` gives
// { name, config, total, stream, saved } (models.js).
async function loadModel(open) {
  const bar = $('progress-bar');
  $('progress').hidden = false;
  try {
    const model = await open();
    await enqueue(async () => {
      page.begin_weights(model.name, model.config, model.total);
      const reader = model.stream.getReader();
      let done = 0;
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        page.push_weights(value);
        done += value.length;
        bar.max = model.total;
        bar.value = done;
        $('progress-text').textContent = `${model.name}: ${(done / 1e6).toFixed(1)} of ${(model.total / 1e6).toFixed(1)} MB into GPU buffers`;
      }
      await model.saved;
      $('progress-text').textContent = 'running the model…';
    });
    await run(() => page.finish_weights(''));
  } catch (e) {
    showError(String(e.message ?? e));
    throw e;
  } finally {
    $('progress').hidden = true;
  }
}

// Runs a reference file (oracle layout) through the model and compares every tensor.
async function check(file, bytes) {
  const report = JSON.parse(await enqueue(() => page.check(file, bytes)));
  const out = $('check-result');
  out.className = report.passed ? 'pass' : 'fail';
  const worst = report.tensors.reduce((w, t) => (t.max_abs / t.scale > w.max_abs / w.scale ? t : w));
  out.textContent = `${report.checked} tensors ${report.passed ? 'match' : 'differ'}; largest difference ${worst.max_abs.toExponential(2)} in ${worst.name}`;
  showStatus(page.status());
  return report;
}

let hoverWanted = null;
let hoverRunning = false;
function hover(x, y) {
  hoverWanted = { x, y };
  if (hoverRunning) return;
  hoverRunning = true;
  enqueue(async () => {
    while (hoverWanted) {
      const { x: hx, y: hy } = hoverWanted;
      hoverWanted = null;
      const tip = $('tooltip');
      if (hx === null) {
        tip.hidden = true;
        continue;
      }
      const cell = JSON.parse(await page.hover(hx, hy));
      showTooltip(tip, cell, hx, hy);
      frameDirty = true;
    }
  }).finally(() => {
    hoverRunning = false;
  });
}

function showTooltip(tip, cell, x, y) {
  if (!cell) {
    tip.hidden = true;
    return;
  }
  const scale = window.devicePixelRatio || 1;
  tip.replaceChildren();
  const title = document.createElement('div');
  title.textContent = `${cell.name}${cell.index ? ` [${cell.index.join(', ')}]` : ''}`;
  tip.append(title);
  if (cell.computed) {
    const value = document.createElement('div');
    value.className = 'value';
    value.textContent = Number(cell.value).toPrecision(5);
    const equation = document.createElement('code');
    equation.textContent = cell.equation || cell.formula;
    const detail = document.createElement('div');
    detail.textContent = cell.detail;
    tip.append(value, equation, detail);
  } else {
    tip.append('not computed yet: step the player forward');
  }
  tip.style.left = `${x / scale + 16}px`;
  tip.style.top = `${y / scale + 16}px`;
  tip.hidden = false;
}

function sizeCanvas() {
  const scale = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * scale));
  const height = Math.max(1, Math.round(canvas.clientHeight * scale));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    frameDirty = true;
  }
}

function frameLoop() {
  sizeCanvas();
  if (frameDirty && page) {
    const begin = performance.now();
    const drawn = page.frame(canvas.width, canvas.height, begin);
    if (drawn) {
      // Interactive: the model has run, its first frame is on screen and the controls work.
      window.glassbox.interactiveMs ??= performance.now();
      // 2: the camera is still flying, so the next frame is wanted too.
      frameDirty = drawn === 2;
      if (drawn === 1) updateUrl();
      frameTimes.push(performance.now() - begin);
      if (frameTimes.length > 60) frameTimes.shift();
      $('frame-time').textContent = `frame: ${averageFrame().toFixed(1)} ms to encode and submit (wall clock, not GPU time)`;
    }
  }
  requestAnimationFrame(frameLoop);
}

function wireControls() {
  let typing = 0;
  $('prompt').addEventListener('input', (e) => {
    clearTimeout(typing);
    typing = setTimeout(() => setPrompt(e.target.value).catch(() => {}), 150);
  });
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      clearTimeout(typing);
      setPrompt(e.target.value).catch(() => {});
    }
  });
  $('fill').addEventListener('change', (e) => {
    page.set_fill(e.target.checked);
    status.fill = e.target.checked;
    updateUrl();
  });
  $('op').addEventListener('input', (e) => step(Number(e.target.value)).catch(() => {}));
  $('first').onclick = () => step(0);
  $('back').onclick = () => stepBy(-1);
  $('forward').onclick = () => stepBy(1);
  $('last').onclick = () => step(status.ops_total);
  canvas.addEventListener('keydown', (e) => {
    const keys = { ArrowLeft: -1, ArrowRight: 1 };
    if (e.key in keys) stepBy(keys[e.key]);
    if (e.key === 'Home') step(0);
    if (e.key === 'End') step(status.ops_total);
  });
  $('camera').addEventListener('change', (e) => {
    page.set_camera(e.target.value);
    frameDirty = true;
    updateUrl();
  });
  $('copy-link').onclick = async () => {
    history.replaceState(null, '', link());
    await navigator.clipboard.writeText(link()).catch(() => {});
    $('copy-link').textContent = 'Link copied';
    setTimeout(() => ($('copy-link').textContent = 'Copy link'), 1500);
  };
  $('open-model').addEventListener('change', (e) => {
    modelSource = null;
    loadModel(() => fromFiles(e.target.files)).catch(() => {});
  });
  $('open-reference').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (file) check(file.name, new Uint8Array(await file.arrayBuffer())).catch((err) => showError(String(err.message ?? err)));
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    modelSource = null;
    loadModel(() => fromFiles(e.dataTransfer.files)).catch(() => {});
  });
  window.addEventListener('hashchange', () => {
    const wanted = readUrl();
    if (wanted.prompt !== null && status && wanted.prompt !== status.prompt) setPrompt(wanted.prompt).catch(() => {});
  });
  attachInput(canvas, page, {
    changed: () => {
      frameDirty = true;
      updateUrl();
    },
    hover,
  });
}

async function main() {
  if (!navigator.gpu) {
    const message = 'This browser does not offer WebGPU, which glassbox needs to run the model on your GPU. '
      + 'Use a recent Chrome or Edge (or Firefox or Safari with WebGPU turned on), on a page served over HTTPS or from localhost.';
    showError(message);
    statusElement.textContent = message;
    statusElement.dataset.state = JSON.stringify({ error: 'no WebGPU', backend: null });
    return;
  }
  const wanted = readUrl();
  // On a phone the panels start folded, so that the model has the screen.
  if (matchMedia('(max-width: 760px)').matches) $('panel').open = false;
  await init();
  sizeCanvas();
  page = await start(canvas, wanted.model ? '' : (wanted.prompt ?? ''));
  const app = {
    page,
    run,
    enqueue,
    showStatus,
    status: () => status,
    markDirty: () => {
      frameDirty = true;
    },
    animate: () => {
      frameDirty = true;
    },
  };
  attachAttention(app);
  tour = attachTour(app);
  playground = attachPlayground(app);
  window.glassbox = {
    page,
    setPrompt,
    step,
    // The status once every call queued before has finished (JSON).
    status: () => enqueue(() => page.status()),
    outline: () => enqueue(() => page.outline()),
    check: async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      return check(url, new Uint8Array(await response.arrayBuffer()));
    },
  };
  wireControls();
  requestAnimationFrame(frameLoop);
  showStatus(page.status());
  if (wanted.model) {
    modelSource = wanted.model;
    await loadModel(() => fromUrl(wanted.model));
    if (wanted.prompt !== null) await setPrompt(wanted.prompt);
  }
  // A prompt the model could not read started the page on its own prompt: asking again says why.
  if (!wanted.model && wanted.prompt !== null && wanted.prompt !== status.prompt) {
    await setPrompt(wanted.prompt).catch(() => {});
  }
  await playground.restoreEdits();
  for (const [family, variant] of wanted.kernels) await run(() => page.set_kernel(family, variant)).catch(() => {});
  if (wanted.fill) {
    page.set_fill(true);
    $('fill').checked = true;
  }
  if (wanted.kv) await run(() => page.set_kv_cache(true));
  if (wanted.diff) await run(() => page.set_difference(true));
  if (wanted.chapter !== null) await tour.show(wanted.chapter, wanted.paragraph);
  else if (wanted.op !== null) await step(wanted.op);
  if (wanted.camera) page.restore_camera(wanted.camera);
  frameDirty = true;
}

main().catch((e) => {
  const message = String(e.message ?? e);
  showError(message);
  statusElement.textContent = `glassbox could not start: ${message}`;
  statusElement.dataset.state = JSON.stringify({ error: message, backend: 'webgpu' });
});
