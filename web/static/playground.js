// The kernel playground on the page: a variant per op family, an editor for any kernel (WGSL
// colouring, naga's errors at their line and column, edits kept in the browser and exportable
// as files), GPU timing, the difference view against the CPU reference, and generation.

const $ = (id) => document.getElementById(id);
const STORE = 'glassbox-kernel:';

const KEYWORDS = /^(fn|let|var|const|struct|if|else|for|loop|while|return|break|continue|switch|case|default|override|alias)$/;
const TYPES = /^(f32|f16|u32|i32|bool|vec[234]|mat[234]x[234]|array|atomic|ptr|uniform|storage|read|read_write|workgroup|private|function)$/;
const TOKEN = /(\/\/[^\n]*)|(@\w+)|(\b\d[\w.]*\b)|(\b[A-Za-z_]\w*\b)|([\s\S])/g;

function escape(text) {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
}

// The kernel's text as HTML, coloured by token, the line `errorLine` (1-based) marked.
export function colour(text, errorLine) {
  const lines = text.split('\n').map((line) => line.replace(TOKEN, (all, comment, attribute, number, word) => {
    if (comment) return `<span class="c">${escape(comment)}</span>`;
    if (attribute) return `<span class="a">${attribute}</span>`;
    if (number) return `<span class="n">${number}</span>`;
    if (word && KEYWORDS.test(word)) return `<span class="k">${word}</span>`;
    if (word && TYPES.test(word)) return `<span class="t">${word}</span>`;
    return escape(all);
  }));
  if (errorLine > 0 && errorLine <= lines.length) {
    lines[errorLine - 1] = `<span class="error-line">${lines[errorLine - 1] || ' '}</span>`;
  }
  return `${lines.join('\n')}\n`;
}

export function attachPlayground(app) {
  const { page } = app;
  let kernels = [];
  let editing = null;

  function listKernels() {
    kernels = JSON.parse(page.kernels() || '[]');
    $('families').replaceChildren(...kernels.map((family) => {
      const row = document.createElement('div');
      row.className = 'family';
      const name = document.createElement('span');
      name.textContent = family.family;
      const select = document.createElement('select');
      select.setAttribute('aria-label', `kernel of ${family.family}`);
      for (const v of family.variants) select.add(new Option(v.variant, v.variant, false, v.variant === family.running));
      select.onchange = () => {
        const variant = select.value;
        app.run(() => page.set_kernel(family.family, variant)).then(listKernels);
      };
      const edit = document.createElement('button');
      edit.textContent = 'edit';
      edit.onclick = () => openEditor(family.family, select.value);
      row.append(name, select, edit);
      return row;
    }));
  }

  function openEditor(family, variant) {
    const kernel = kernels.find((f) => f.family === family).variants.find((v) => v.variant === variant);
    editing = kernel;
    $('editor-file').textContent = kernel.file;
    $('editor-text').value = localStorage.getItem(STORE + kernel.file) ?? kernel.text;
    $('editor-error').textContent = '';
    $('editor').hidden = false;
    recolour(0);
    $('editor-text').focus();
  }

  function recolour(errorLine) {
    $('editor-colours').innerHTML = colour($('editor-text').value, errorLine);
    syncScroll();
  }

  function syncScroll() {
    $('editor-colours').scrollTop = $('editor-text').scrollTop;
    $('editor-colours').scrollLeft = $('editor-text').scrollLeft;
  }

  // Loads the editor's text; naga's error, if any, is shown at its line and nothing changes.
  async function apply(file, text) {
    const result = JSON.parse(await app.enqueue(() => page.edit_kernel(file, text)));
    if (result.error) return result.error;
    app.showStatus(JSON.stringify(result));
    listKernels();
    return null;
  }

  $('editor-text').addEventListener('input', () => recolour(0));
  $('editor-text').addEventListener('scroll', syncScroll);
  $('editor-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $('editor-apply').click();
    }
    if (e.key === 'Tab') {
      e.preventDefault();
      document.execCommand('insertText', false, '    ');
    }
  });
  $('editor-apply').onclick = async () => {
    const text = $('editor-text').value;
    const error = await apply(editing.file, text).catch((e) => ({ text: String(e.message ?? e), line: 0 }));
    $('editor-error').textContent = error ? `${error.text} — the last good kernel keeps running` : 'compiled; the graph ran again with it';
    $('editor-error').className = error ? 'fail' : 'pass';
    recolour(error?.line ?? 0);
    if (!error) localStorage.setItem(STORE + editing.file, text);
  };
  $('editor-revert').onclick = async () => {
    localStorage.removeItem(STORE + editing.file);
    $('editor-text').value = editing.text;
    recolour(0);
    const error = await apply(editing.file, editing.text).catch((e) => ({ text: String(e.message ?? e) }));
    $('editor-error').textContent = error ? error.text : 'back to the kernel as loaded';
    $('editor-error').className = error ? 'fail' : 'pass';
  };
  $('editor-export').onclick = () => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([$('editor-text').value], { type: 'text/plain' }));
    link.download = editing.file.split('/').pop();
    link.click();
    URL.revokeObjectURL(link.href);
  };
  $('editor-close').onclick = () => {
    $('editor').hidden = true;
  };

  $('measure').onclick = async () => {
    try {
      const measured = JSON.parse(await app.enqueue(() => page.measure()));
      if (!measured.ops) {
        $('timings').replaceChildren();
        $('timing-total').textContent = `${measured.total_ms.toFixed(2)} ms by the ${measured.clock}`;
        return;
      }
      const timings = measured.ops;
      const total = timings.reduce((sum, t) => sum + t.nanos, 0);
      const slowest = [...timings].sort((a, b) => b.nanos - a.nanos).slice(0, 8);
      $('timings').replaceChildren(...slowest.map((t) => {
        const row = document.createElement('tr');
        row.innerHTML = `<td></td><td>${(t.nanos / 1000).toFixed(1)} µs</td><td>${(100 * t.nanos / total).toFixed(0)}%</td>`;
        row.firstChild.textContent = t.op;
        return row;
      }));
      $('timing-total').textContent = `${timings.length} ops, ${(total / 1e6).toFixed(2)} ms of GPU time (${measured.clock})`;
    } catch (e) {
      $('timing-total').textContent = String(e.message ?? e);
    }
  };

  // Choices are read when made: a run queued before them may still set the boxes back.
  $('difference').onchange = (e) => {
    const on = e.target.checked;
    app.run(() => page.set_difference(on));
  };
  $('kv-cache').onchange = (e) => {
    const on = e.target.checked;
    app.run(() => page.set_kv_cache(on));
  };
  $('temperature').oninput = (e) => {
    $('temperature-value').textContent = Number(e.target.value) === 0 ? '0 (greedy)' : e.target.value;
  };
  $('append').onclick = () => {
    const temperature = Number($('temperature').value);
    app.run(() => page.append_token(temperature));
  };

  // Edits kept from an earlier visit are loaded again.
  async function restoreEdits() {
    for (const family of kernels) {
      for (const variant of family.variants) {
        const text = localStorage.getItem(STORE + variant.file);
        if (text !== null && text !== variant.text) await apply(variant.file, text).catch(() => {});
      }
    }
    listKernels();
  }

  function render(status) {
    $('kv-cache').checked = status.kv_cache;
    $('difference').checked = status.differences !== null;
    $('cache-fill').textContent = status.cache_fill ? `cache: ${status.cache_fill[0]} of ${status.cache_fill[1]} rows` : '';
    const list = $('differences');
    if (!status.differences) {
      list.replaceChildren();
      return;
    }
    const worst = [...status.differences].sort((a, b) => b.max_abs / b.scale - a.max_abs / a.scale).slice(0, 6);
    list.replaceChildren(...worst.map((d) => {
      const item = document.createElement('li');
      item.className = d.passes ? 'pass' : 'fail';
      item.textContent = `${d.op}: ${d.max_abs.toExponential(2)}`;
      return item;
    }));
  }

  listKernels();
  return { render, restoreEdits };
}
