// Getting a model's two files into the page: from a folder the user picks or drops, or from a
// URL (a Hugging Face repo name, or a folder served beside the page), kept in the browser's
// Cache storage so that a second visit downloads nothing. The weights come as a stream, which
// the page pushes piece by piece into GPU buffers.

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

// Opens `source`'s two files, from the cache when they are there: the config's bytes, and the
// weights as a stream (never read whole) with their length. Returns { name, config, total,
// stream, saved }, `saved` settling once a download is in the cache.
export async function fromUrl(source) {
  const base = modelBase(source);
  const cache = 'caches' in self ? await caches.open(CACHE) : null;
  const config = new Uint8Array(await (await open(base + FILES[0], cache)).response.arrayBuffer());
  const url = base + FILES[1];
  const { response, saved } = await open(url, cache);
  const total = Number(response.headers.get('content-length'));
  if (!total) {
    throw new Error(`${url}: the server did not say how long the file is (no Content-Length), which streaming the weights needs`);
  }
  return { name: source.replace(/\/$/, ''), config, total, stream: response.body, saved };
}

async function open(url, cache) {
  const cached = cache ? await cache.match(url) : undefined;
  if (cached) return { response: cached, saved: Promise.resolve() };
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`${url}: the server answered ${response.status} ${response.statusText}`);
  }
  // The cache stores its own copy as the page reads the other.
  const saved = cache ? cache.put(url, response.clone()).catch(() => {}) : Promise.resolve();
  return { response, saved };
}

// The two files of a model among files the user picked or dropped, the weights as a stream.
export function fromFiles(fileList) {
  const files = Array.from(fileList);
  const config = files.find((f) => f.name === 'config.json');
  const weights = files.find((f) => f.name.endsWith('.safetensors'));
  if (!config || !weights) {
    const names = files.map((f) => f.name).join(', ') || 'nothing';
    throw new Error(`a model folder needs config.json and model.safetensors; got ${names}`);
  }
  const folder = (config.webkitRelativePath || '').split('/')[0] || 'local model';
  return config.arrayBuffer().then((bytes) => ({
    name: folder,
    config: new Uint8Array(bytes),
    total: weights.size,
    stream: weights.stream(),
    saved: Promise.resolve(),
  }));
}
