// Getting a model's two files into the page: from a folder the user picks or drops, or from a
// URL (a Hugging Face repo name, or a folder served beside the page), with a progress bar, kept
// in the browser's Cache storage so that a second visit downloads nothing.

const CACHE = 'glassbox-models-v1';
const FILES = ['config.json', 'model.safetensors'];

// Where `source` lives: a repo name ("openai-community/gpt2") means the Hugging Face hub; a path
// or an http(s) URL is a folder holding the two files.
export function modelBase(source) {
  if (/^(https?:)?\//.test(source) || source.startsWith('.')) {
    return source.endsWith('/') ? source : source + '/';
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(source)) {
    throw new Error(`model "${source}": expected a Hugging Face repo such as openai-community/gpt2, or a folder URL`);
  }
  return `https://huggingface.co/${source}/resolve/main/`;
}

// Fetches the two files of `source`, from the cache when they are there; `progress(done, total,
// what)` reports bytes. Returns { name, config, weights } as Uint8Arrays.
export async function fetchModel(source, progress) {
  const base = modelBase(source);
  const cache = 'caches' in self ? await caches.open(CACHE) : null;
  const files = [];
  for (const file of FILES) {
    files.push(await fetchOne(base + file, cache, (done, total) => progress(done, total, file)));
  }
  return { name: source.replace(/\/$/, ''), config: files[0], weights: files[1] };
}

async function fetchOne(url, cache, progress) {
  let response = cache ? await cache.match(url) : undefined;
  const cached = Boolean(response);
  if (!response) {
    response = await fetch(url);
    if (!response.ok) {
      throw new Error(`${url}: the server answered ${response.status} ${response.statusText}`);
    }
  }
  const total = Number(response.headers.get('content-length')) || 0;
  const reader = response.clone().body.getReader();
  const chunks = [];
  let done = 0;
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    chunks.push(value);
    done += value.length;
    progress(done, total);
  }
  if (cache && !cached) {
    await cache.put(url, response);
  }
  const bytes = new Uint8Array(done);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

// The two files of a model among files the user picked or dropped.
export async function readPicked(fileList) {
  const files = Array.from(fileList);
  const config = files.find((f) => f.name === 'config.json');
  const weights = files.find((f) => f.name.endsWith('.safetensors'));
  if (!config || !weights) {
    const names = files.map((f) => f.name).join(', ') || 'nothing';
    throw new Error(`a model folder needs config.json and model.safetensors; got ${names}`);
  }
  const folder = (config.webkitRelativePath || '').split('/')[0] || 'local model';
  return {
    name: folder,
    config: new Uint8Array(await config.arrayBuffer()),
    weights: new Uint8Array(await weights.arrayBuffer()),
  };
}
