// The page in a real headless Chromium on WebGPU: built dist/ served on 127.0.0.1, prompts set
// through the prompt box, predictions checked against what the native app prints
// (`glassbox generate --prompt P -n 1 --greedy`), a screenshot that is not blank, hovering, a
// shared link that restores the view, and one oracle case's forward pass checked against
// Hugging Face transformers' numbers. Run by `bash scripts/web.sh test`.

import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const root = resolve(new URL('../..', import.meta.url).pathname);
const dist = join(root, 'dist');
const oracle = join(root, 'tests/data/oracle');
const out = join(root, 'target/web-test');
const PROMPTS = ['CBABBC', 'ABCABC', 'CCBA', 'BACAB'];
const ORACLE_CASE = 'tiny_2l';
// SwiftShader runs WebGPU on the CPU: a run of the graph takes seconds, not milliseconds.
const TIMEOUT = 120_000;

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.safetensors': 'application/octet-stream',
};

// How many times each path was asked for.
const requests = new Map();

function serve() {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const [base, rest] = path.startsWith('/oracle/') ? [oracle, path.slice(8)] : [dist, path.slice(1) || 'index.html'];
    const file = normalize(join(base, rest));
    try {
      if (!file.startsWith(base) || !statSync(file).isFile()) throw new Error('not a file');
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

function nativePrediction(prompt) {
  return execFileSync(join(root, 'target/release/glassbox'), ['generate', '--prompt', prompt, '-n', '1', '--greedy'], {
    encoding: 'utf8',
  }).trim();
}

async function state(page) {
  return page.evaluate(() => JSON.parse(document.getElementById('status').dataset.state ?? 'null'));
}

// Waits until #status reports `prompt` with the whole graph run, and returns that state.
async function waitForRun(page, prompt) {
  await page.waitForFunction((wanted) => {
    const s = JSON.parse(document.getElementById('status').dataset.state ?? 'null');
    if (s?.error) throw new Error(s.error);
    return s && s.prompt === wanted && s.ops_run === s.ops_total && s.prediction !== null;
  }, prompt, { timeout: TIMEOUT, polling: 100 });
  return state(page);
}

// Share of pixels unlike the background (the most common colour), and how many distinct
// colours, of a PNG decoded by the browser itself.
async function pixelStats(page, png) {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    const counts = new Map();
    for (let i = 0; i < data.length; i += 4) {
      const colour = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      counts.set(colour, (counts.get(colour) ?? 0) + 1);
    }
    const [background] = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
    const channels = (c) => [(c >> 16) & 255, (c >> 8) & 255, c & 255];
    const [r0, g0, b0] = channels(background);
    let differing = 0;
    for (const [colour, count] of counts) {
      const [r, g, b] = channels(colour);
      if (Math.abs(r - r0) + Math.abs(g - g0) + Math.abs(b - b0) > 24) differing += count;
    }
    return { differing: differing / (data.length / 4), colours: counts.size };
  }, png.toString('base64'));
}

// `bash scripts/web.sh serve`, as the README shows it: serves the site on 127.0.0.1:8080 with
// the wasm's type right. Resolves to a function that stops it.
async function readmeServe() {
  const child = spawn('bash', ['scripts/web.sh', 'serve'], { cwd: root, stdio: 'ignore', detached: true });
  const stop = () => process.kill(-child.pid);
  for (let i = 0; i < 600; i += 1) {
    const index = await fetch('http://127.0.0.1:8080/').catch(() => null);
    if (index?.ok) {
      const wasm = await fetch('http://127.0.0.1:8080/glassbox_bg.wasm');
      assert.equal(wasm.headers.get('content-type'), 'application/wasm', 'web.sh serve gives the wasm its type');
      return stop;
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  stop();
  throw new Error('bash scripts/web.sh serve did not serve http://127.0.0.1:8080 within 5 minutes');
}

async function main() {
  mkdirSync(out, { recursive: true });
  const stopServe = await readmeServe();
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // WebGPU on SwiftShader's Vulkan, composited through Vulkan too: with the default GL
    // compositor a WebGPU canvas renders but its pixels never reach a screenshot.
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
      '--ignore-gpu-blocklist', '--enable-gpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic'],
  });
  const failures = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('console', (m) => m.type() === 'error' && console.log(`  page error: ${m.text()}`));
  page.on('pageerror', (e) => failures.push(`uncaught in the page: ${e.message}`));
  try {
    // The README's served page runs the built-in model.
    await page.goto(`http://127.0.0.1:8080/#prompt=${PROMPTS[1]}`);
    await waitForRun(page, PROMPTS[1]);
    stopServe();
    console.log('bash scripts/web.sh serve: the page on http://127.0.0.1:8080 runs the model');

    const begin = Date.now();
    await page.goto(`${origin}/#prompt=${PROMPTS[0]}`);
    let s = await waitForRun(page, PROMPTS[0]);
    const loadSeconds = (Date.now() - begin) / 1000;
    await page.waitForFunction(() => window.glassbox?.interactiveMs !== undefined);
    const interactiveMs = await page.evaluate(() => window.glassbox.interactiveMs);
    console.log(`page loaded and ran "${PROMPTS[0]}" in ${loadSeconds.toFixed(2)} s on ${s.adapter}; first frame at ${(interactiveMs / 1000).toFixed(2)} s`);
    assert.equal(s.backend, 'webgpu');

    for (const prompt of PROMPTS) {
      await page.fill('#prompt', prompt);
      await page.press('#prompt', 'Enter');
      s = await waitForRun(page, prompt);
      const native = nativePrediction(prompt);
      console.log(`  ${prompt}: page predicts ${JSON.stringify(s.prediction)} (p = ${s.probability.toFixed(4)}), native ${JSON.stringify(native)}`);
      assert.equal(s.prediction, native, `prediction for ${prompt}`);
      assert.deepEqual(s.tokens, [...prompt], `tokens of ${prompt}`);
      const text = await page.textContent('#status');
      assert.ok(text.includes(`predicts "${native}"`), `the status sentence names the prediction: ${text}`);
    }

    // The next-token bars and the attention panel come with the status.
    assert.equal(s.top.length, 3, 'the sorter has three tokens to rank');
    assert.equal(s.top[0][0], s.prediction);
    await page.selectOption('#att-layer', '2');
    await page.selectOption('#att-head', '1');
    await page.waitForFunction(() => {
      const a = JSON.parse(document.getElementById('status').dataset.state).attention;
      return a?.layer === 2 && a?.head === 1;
    }, null, { timeout: TIMEOUT });
    s = await state(page);
    const rows = s.attention.probs;
    assert.equal(rows.length, s.tokens.length);
    rows.forEach((row, i) => {
      const sum = row.slice(0, i + 1).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `row ${i} of the attention sums to 1: ${sum}`);
      assert.ok(row.slice(i + 1).every((p) => p === 0), `row ${i} attends to no later token`);
    });
    console.log(`  attention: layer 2, head 1, ${rows.length} rows, each a distribution over the tokens so far`);

    // Steady frames read nothing back.
    await page.mouse.move(5, 5);
    await page.waitForTimeout(500);
    const fresh = JSON.parse(await page.evaluate(() => window.glassbox.status()));
    assert.equal(fresh.readbacks_per_frame, 0, 'readbacks in a steady frame');

    const shot = await page.locator('#view').screenshot();
    writeFileSync(join(out, 'page.png'), await page.screenshot());
    const pixels = await pixelStats(page, shot);
    console.log(`  canvas: ${(100 * pixels.differing).toFixed(1)}% of pixels drawn, ${pixels.colours} colours`);
    assert.ok(pixels.differing > 0.05 && pixels.colours > 50, 'the canvas is not blank');

    // Hovering a cell reads its value back and explains it.
    const cell = await page.evaluate(async () => {
      const canvas = document.getElementById('view');
      for (let y = 0.2; y < 0.9; y += 0.05) {
        for (let x = 0.1; x < 0.95; x += 0.05) {
          const found = JSON.parse(await window.glassbox.page.hover(x * canvas.width, y * canvas.height));
          if (found?.computed) return found;
        }
      }
      return null;
    });
    assert.ok(cell && Number.isFinite(cell.value), `a hovered cell has a value: ${JSON.stringify(cell)}`);
    console.log(`  hover: ${cell.name} [${cell.index}] = ${cell.value}: ${cell.equation}`);

    // The player, then a link that restores prompt, op and camera.
    await page.click('#first');
    await page.waitForFunction(() => JSON.parse(document.getElementById('status').dataset.state).ops_run === 0);
    for (let i = 0; i < 5; i += 1) await page.click('#forward');
    await page.waitForFunction(() => JSON.parse(document.getElementById('status').dataset.state).ops_run === 5, null, { timeout: TIMEOUT });
    await page.evaluate(() => window.glassbox.page.orbit(40, 10));
    await page.click('#copy-link');
    const link = await page.evaluate(() => location.href);
    const camera = await page.evaluate(() => window.glassbox.page.camera());
    const shared = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await shared.goto(link);
    await shared.waitForFunction(() => {
      const st = JSON.parse(document.getElementById('status').dataset.state ?? 'null');
      return st && st.ops_run === 5;
    }, null, { timeout: TIMEOUT });
    const restored = await state(shared);
    assert.equal(restored.prompt, PROMPTS[PROMPTS.length - 1], 'the link restores the prompt');
    assert.equal(await shared.evaluate(() => window.glassbox.page.camera()), camera, 'the link restores the camera');
    console.log(`  link ${link.slice(origin.length)} restores op 5 and the camera`);
    await shared.close();

    // Data seen moving: with the slow fill on, a step traces the op and fills its output in
    // the order its workgroups ran, then shows it whole.
    await page.check('#fill');
    await page.click('#back');
    await page.waitForFunction(() => JSON.parse(document.getElementById('status').dataset.state).ops_run === 4, null, { timeout: TIMEOUT });
    s = await state(page);
    assert.ok(s.filling > 0, `the op fills by workgroups: ${s.filling}`);
    await page.waitForTimeout(2500);
    assert.equal(JSON.parse(await page.evaluate(() => window.glassbox.status())).filling, null, 'the fill ends');
    console.log(`  fill: op ${s.current_op} filled by its ${s.filling} workgroups over 2 s`);
    await page.uncheck('#fill');

    // Frame time while orbiting (wall clock of encoding and submitting a frame).
    await page.mouse.move(400, 300);
    await page.mouse.down();
    for (let i = 0; i < 20; i += 1) await page.mouse.move(400 + 6 * i, 300 + i);
    await page.mouse.up();
    await page.waitForTimeout(300);
    const frameMs = JSON.parse(await page.evaluate(() => window.glassbox.status())).frame_ms
      ?? await page.evaluate(() => Number(document.getElementById('frame-time').textContent.match(/[\d.]+/)?.[0]));
    console.log(`  frame: ${Number(frameMs).toFixed(1)} ms to encode and submit`);

    // GPU timing: per-op timestamps where the browser grants them, else the wall clock, said so.
    await page.click('#measure');
    await page.waitForFunction(() => /GPU time|wall clock/.test(document.getElementById('timing-total').textContent), null, { timeout: TIMEOUT });
    console.log(`  timing: ${await page.textContent('#timing-total')}`);

    // The walkthrough: a paragraph's narrative, Continue, and a link to the exact paragraph.
    await page.fill('#prompt', PROMPTS[0]);
    await page.press('#prompt', 'Enter');
    await waitForRun(page, PROMPTS[0]);
    // Start, then Continue three times, faster than the GPU: the fourth paragraph overall.
    const outline = JSON.parse(await page.evaluate(() => window.glassbox.outline()));
    let [chapter, paragraph] = [0, 0];
    for (let i = 0; i < 3; i += 1) {
      paragraph += 1;
      if (paragraph === outline[chapter].paragraphs) [chapter, paragraph] = [chapter + 1, 0];
    }
    await page.click('#tour-start');
    for (let i = 0; i < 3; i += 1) await page.click('#tour-continue');
    await page.waitForFunction(([c, p]) => {
      const st = JSON.parse(document.getElementById('status').dataset.state);
      return st.narrative?.chapter === c && st.narrative?.paragraph === p;
    }, [chapter, paragraph], { timeout: TIMEOUT });
    s = await state(page);
    const narrativeText = await page.textContent('#tour-text');
    assert.ok(narrativeText.includes(s.narrative.title), 'the narrative shows the chapter');
    assert.equal(s.narrative.paragraphs.length, paragraph + 1, 'the chapter\'s paragraphs so far');
    await page.waitForTimeout(1500);
    await page.click('#copy-link');
    const tourLink = await page.evaluate(() => location.href);
    const tourPage = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await tourPage.goto(tourLink);
    await tourPage.waitForFunction(([c, p]) => {
      const st = JSON.parse(document.getElementById('status').dataset.state ?? 'null');
      return st?.narrative?.chapter === c && st?.narrative?.paragraph === p;
    }, [chapter, paragraph], { timeout: TIMEOUT });
    const tourState = await state(tourPage);
    assert.equal(tourState.narrative.chapter, s.narrative.chapter, 'the link restores the chapter');
    assert.equal(tourState.ops_run, s.ops_run, 'the link restores the paragraph\'s op');
    await tourPage.close();

    // The README's picture of the page (tools/pictures.sh copies it): a link to the softmax
    // chapter, opened at 1600x900, the camera flown to its view.
    const readme = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const softmax = outline.findIndex((c) => c.name === 'softmax');
    await readme.goto(`${origin}/#prompt=${PROMPTS[0]}&chapter=${softmax}&paragraph=1`);
    await readme.waitForFunction((c) => JSON.parse(document.getElementById('status').dataset.state ?? 'null')?.narrative?.chapter === c, softmax, { timeout: TIMEOUT });
    await readme.waitForTimeout(2500);
    writeFileSync(join(out, 'walkthrough.png'), await readme.screenshot());
    await readme.close();
    console.log(`  walkthrough: "${s.narrative.title}", paragraph ${paragraph + 1}, op ${s.ops_run}; ${tourLink.slice(origin.length)} restores it`);
    await page.click('#tour-leave');
    await waitForRun(page, PROMPTS[0]);

    // The difference view: the CPU reference, running in wasm, against every GPU op.
    await page.check('#difference');
    await page.waitForFunction(() => JSON.parse(document.getElementById('status').dataset.state).differences?.length > 0, null, { timeout: TIMEOUT });
    s = await state(page);
    assert.equal(s.differences.length, s.ops_total, 'a difference for every op');
    assert.ok(s.differences.every((d) => d.passes), `GPU and CPU agree: ${JSON.stringify(s.differences.filter((d) => !d.passes))}`);
    console.log(`  difference view: ${s.differences.length} ops within tolerance of the CPU reference`);
    await page.uncheck('#difference');

    // A kernel variant chosen in the panel runs the graph, and the link carries the choice.
    await page.selectOption('.family:has-text("linear") select', 'naive');
    await page.waitForFunction(() => JSON.parse(document.getElementById('status').dataset.state).kernel_choices.includes('linear:naive'), null, { timeout: TIMEOUT });
    s = await state(page);
    assert.equal(s.prediction, nativePrediction(s.prompt), 'linear=naive predicts what the native app does');
    await page.waitForFunction(() => location.hash.includes('kernels=linear%3Anaive'));
    console.log('  kernels: linear=naive runs the graph, and the link says so');

    // Generation through the KV cache: the token appended is the one the native app prints.
    await page.check('#kv-cache');
    await page.waitForFunction(() => JSON.parse(document.getElementById('status').dataset.state).kv_cache, null, { timeout: TIMEOUT });
    await page.click('#append');
    await page.waitForFunction((n) => JSON.parse(document.getElementById('status').dataset.state).tokens.length === n, PROMPTS[0].length + 1, { timeout: TIMEOUT });
    s = await state(page);
    assert.equal(s.tokens.at(-1), nativePrediction(PROMPTS[0]), 'the generated token');
    console.log(`  generation with the KV cache: "${PROMPTS[0]}" + "${s.tokens.at(-1)}", cache ${s.cache_fill}`);
    await page.uncheck('#kv-cache');

    // The kernel editor: a broken edit is reported at its line and changes nothing.
    await page.click('.family:has-text("gelu") button');
    const original = await page.inputValue('#editor-text');
    const brokenLine = original.split('\n').length + 1;
    await page.fill('#editor-text', `${original}\nfn broken( {\n`);
    await page.click('#editor-apply');
    await page.waitForSelector('#editor-error.fail');
    const editorError = await page.textContent('#editor-error');
    assert.ok(editorError.includes(`:${brokenLine}:`), `the error names line ${brokenLine}: ${editorError}`);
    assert.equal(await page.locator('#editor-colours .error-line').count(), 1, 'the line is marked');
    await page.fill('#prompt', PROMPTS[1]);
    await page.press('#prompt', 'Enter');
    s = await waitForRun(page, PROMPTS[1]);
    assert.equal(s.prediction, nativePrediction(PROMPTS[1]), 'the last good kernel keeps running');
    await page.fill('#editor-text', original.replace('// Kernel:', '// An edit.\n// Kernel:'));
    await page.click('#editor-apply');
    await page.waitForSelector('#editor-error.pass');
    console.log(`  editor: ${editorError.split('\n')[0]}`);
    await page.click('#editor-revert');
    await page.click('#editor-close');

    // One oracle case: the forward pass in the browser against transformers.
    // One browser context (one profile's storage) for both visits.
    const visitor = await browser.newContext({ viewport: { width: 960, height: 540 } });
    const oraclePage = await visitor.newPage();
    oraclePage.on('pageerror', (e) => failures.push(`uncaught in the oracle page: ${e.message}`));
    await oraclePage.goto(`${origin}/?model=/oracle/${ORACLE_CASE}/`);
    await oraclePage.waitForFunction((name) => {
      const st = JSON.parse(document.getElementById('status').dataset.state ?? 'null');
      if (st?.error) throw new Error(st.error);
      return st && st.model === name && st.ops_run === st.ops_total;
    }, `/oracle/${ORACLE_CASE}`, { timeout: TIMEOUT });
    const report = await oraclePage.evaluate((url) => window.glassbox.check(url), `/oracle/${ORACLE_CASE}/expected.safetensors`);
    const config = JSON.parse(readFileSync(join(oracle, ORACLE_CASE, 'config.json'), 'utf8'));
    const worst = Math.max(...report.tensors.map((t) => t.max_abs / t.scale));
    console.log(`  oracle ${ORACLE_CASE}: ${report.checked} tensors, worst |difference| / scale = ${worst.toExponential(2)}`);
    assert.equal(report.checked, 1 + (config.n_layer + 1) + config.n_layer, 'every reference tensor checked');
    assert.ok(report.passed, `the oracle case matches: ${JSON.stringify(report.tensors.filter((t) => !t.passes))}`);
    await oraclePage.close();

    // A phone: the panels start folded, a tap explains a value, two fingers pinch-zoom.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const mobile = await phone.newPage();
    await mobile.goto(`${origin}/#prompt=${PROMPTS[0]}`);
    await waitForRun(mobile, PROMPTS[0]);
    assert.equal(await mobile.evaluate(() => document.getElementById('panel').open), false, 'the panels start folded');
    const canvasBox = await mobile.locator('#view').boundingBox();
    assert.ok(canvasBox.height > 0.5 * 844, `the model has most of the screen: ${JSON.stringify(canvasBox)}`);
    const target = await mobile.evaluate(async () => {
      const canvas = document.getElementById('view');
      for (let y = 0.3; y < 0.8; y += 0.04) {
        for (let x = 0.1; x < 0.95; x += 0.04) {
          const found = JSON.parse(await window.glassbox.page.hover(x * canvas.width, y * canvas.height));
          if (found?.computed) return { x: x * canvas.clientWidth, y: y * canvas.clientHeight };
        }
      }
      return null;
    });
    assert.ok(target, 'a cell to tap');
    await mobile.evaluate(() => window.glassbox.page.hover(0, 0));
    await mobile.touchscreen.tap(canvasBox.x + target.x, canvasBox.y + target.y);
    await mobile.waitForSelector('#tooltip:not([hidden])');
    const before = await mobile.evaluate(() => window.glassbox.page.camera());
    await mobile.evaluate(() => {
      const canvas = document.getElementById('view');
      const rect = canvas.getBoundingClientRect();
      const touch = (type, id, x, y) => canvas.dispatchEvent(new PointerEvent(type, {
        pointerId: id, pointerType: 'touch', clientX: rect.left + x, clientY: rect.top + y, bubbles: true, isPrimary: id === 1,
      }));
      const [cx, cy] = [rect.width / 2, rect.height / 2];
      touch('pointerdown', 1, cx - 20, cy);
      touch('pointerdown', 2, cx + 20, cy);
      for (let step = 1; step <= 10; step += 1) {
        touch('pointermove', 1, cx - 20 - 8 * step, cy);
        touch('pointermove', 2, cx + 20 + 8 * step, cy);
      }
      touch('pointerup', 1, cx - 100, cy);
      touch('pointerup', 2, cx + 100, cy);
    });
    const after = await mobile.evaluate(() => window.glassbox.page.camera());
    const distance = (camera) => Number(camera.split(',')[2]);
    assert.ok(distance(after) < distance(before) * 0.6, `spreading two fingers zooms in: ${before} -> ${after}`);
    writeFileSync(join(out, 'phone.png'), await mobile.screenshot());
    await phone.close();
    console.log(`  phone: panels folded, a tap explains a value, a pinch zooms ${distance(before).toFixed(0)} -> ${distance(after).toFixed(0)}`);

    // A model folder picked with Open model…: the weights stream in from the file.
    const picker = await browser.newPage({ viewport: { width: 960, height: 540 } });
    await picker.goto(`${origin}/#prompt=${PROMPTS[0]}`);
    await waitForRun(picker, PROMPTS[0]);
    await picker.setInputFiles('#open-model', ['config.json', 'model.safetensors'].map((f) => join(oracle, ORACLE_CASE, f)));
    await picker.waitForFunction(() => {
      const st = JSON.parse(document.getElementById('status').dataset.state ?? 'null');
      return st && st.model === 'local model' && st.ops_run === st.ops_total;
    }, null, { timeout: TIMEOUT });
    const picked = await picker.evaluate(() => window.glassbox.check('/oracle/tiny_2l/expected.safetensors'));
    assert.ok(picked.passed, 'the picked model computes what transformers computes');
    await picker.close();
    console.log('  Open model…: a picked folder streams in and matches the oracle');

    // A prompt the model cannot read: the page still starts, and says why.
    const bad = await browser.newPage({ viewport: { width: 960, height: 540 } });
    await bad.goto(`${origin}/#prompt=CBAXZ`);
    await bad.waitForSelector('#error:not([hidden])', { timeout: TIMEOUT });
    const badError = await bad.textContent('#error');
    assert.ok(badError.includes('CBAXZ'), `the error names the prompt: ${badError}`);
    assert.equal((await state(bad)).ops_run, (await state(bad)).ops_total, 'the scene\'s own prompt ran');
    await bad.close();
    console.log(`  a prompt the model cannot read: ${badError.split('\n')[0]}`);

    // A browser without WebGPU gets a message, not a blank canvas.
    const old = await browser.newPage({ viewport: { width: 960, height: 540 } });
    await old.addInitScript(() => {
      delete Navigator.prototype.gpu;
    });
    await old.goto(`${origin}/`);
    await old.waitForFunction(() => document.getElementById('status').dataset.state);
    const refused = await state(old);
    assert.equal(refused.error, 'no WebGPU');
    assert.ok(await old.isVisible('#error'), 'the message is on the page');
    assert.ok((await old.textContent('#error')).includes('WebGPU'), 'it names WebGPU');
    await old.close();
    console.log('  without WebGPU: the page says so');

    // A second visit takes the model from the browser's cache: nothing is downloaded again.
    const weightsPath = `/oracle/${ORACLE_CASE}/model.safetensors`;
    assert.equal(requests.get(weightsPath), 1, 'the weights were downloaded once');
    const again = await visitor.newPage();
    await again.goto(`${origin}/?model=/oracle/${ORACLE_CASE}/`);
    await again.waitForFunction((name) => {
      const st = JSON.parse(document.getElementById('status').dataset.state ?? 'null');
      return st && st.model === name && st.ops_run === st.ops_total;
    }, `/oracle/${ORACLE_CASE}`, { timeout: TIMEOUT });
    assert.equal(requests.get(weightsPath), 1, 'the second visit downloads nothing');
    await again.close();
    console.log('  a second visit loads the model from the browser\'s cache');

    assert.deepEqual(failures, []);
    writeFileSync(join(out, 'timings.json'), JSON.stringify({ load_seconds: loadSeconds, interactive_ms: interactiveMs, frame_ms: frameMs }, null, 2));
    console.log('browser test passed');
  } finally {
    try {
      stopServe();
    } catch {
      // Already stopped.
    }
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(`browser test failed: ${e.stack ?? e}`);
  process.exit(1);
});
