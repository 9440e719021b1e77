// The next-token bars and the attention panel, drawn from the status (the wasm side reads both
// back once per run).

const $ = (id) => document.getElementById(id);

// Viridis, as a polynomial fit (the same map the slabs use for probabilities).
function viridis(t) {
  const c = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  return [0, 1, 2].map((k) => {
    let v = c[6][k];
    for (let i = 5; i >= 0; i -= 1) v = c[i][k] + t * v;
    return Math.round(255 * Math.min(1, Math.max(0, v)));
  });
}

export function renderTop(status) {
  $('top').replaceChildren(...status.top.map(([token, p]) => {
    const item = document.createElement('li');
    const name = document.createElement('code');
    name.textContent = JSON.stringify(token);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(0.5, 100 * p)}%`;
    const value = document.createElement('span');
    value.textContent = `${(100 * p).toFixed(1)}%`;
    item.append(name, bar, value);
    return item;
  }));
}

// Fills the layer and head choices for the model shown; asks for another layer or head on change.
export function attachAttention(app) {
  // The choice is read now: a run queued before it may still set the selects back.
  const choose = () => {
    const [layer, head] = [Number($('att-layer').value), Number($('att-head').value)];
    return app.run(() => app.page.set_attention(layer, head));
  };
  $('att-layer').onchange = choose;
  $('att-head').onchange = choose;
}

export function renderAttention(status) {
  for (const [id, count] of [['att-layer', status.n_layer], ['att-head', status.n_head]]) {
    const select = $(id);
    if (select.options.length !== count) {
      select.replaceChildren(...Array.from({ length: count }, (_, i) => new Option(String(i), String(i))));
    }
  }
  const canvas = $('attention');
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const attention = status.attention;
  $('attention-note').textContent = attention
    ? 'rows: query tokens · columns: the tokens they attend to'
    : (status.kv_cache ? 'the decode step has one query: see the KV cache in the picture' : 'not computed yet: run the layer\'s softmax');
  if (!attention) return;
  $('att-layer').value = String(attention.layer);
  $('att-head').value = String(attention.head);
  const n = attention.tokens.length;
  const margin = 22;
  const cell = (canvas.width - margin) / n;
  context.font = `${Math.min(12, cell * 0.8)}px ui-monospace, monospace`;
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  for (let i = 0; i < n; i += 1) {
    context.fillStyle = '#6b6f78';
    const label = attention.tokens[i].slice(0, 3);
    if (cell >= 8) {
      context.fillText(label, margin + (i + 0.5) * cell, margin / 2);
      context.fillText(label, margin / 2, margin + (i + 0.5) * cell);
    }
    for (let j = 0; j < n; j += 1) {
      // Keys after the query are masked: drawn as the background, not as a probability of 0.
      if (j > i) continue;
      const [r, g, b] = viridis(attention.probs[i][j]);
      context.fillStyle = `rgb(${r}, ${g}, ${b})`;
      context.fillRect(margin + j * cell, margin + i * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
}
