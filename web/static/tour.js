// The walkthrough on the page: a map of the chapters, the chapter's paragraphs so far as text
// (words naming tensors in their slabs' colours; hovering one lights the tensors up), Continue
// (Enter) and Leave. The wasm side runs the graph to each paragraph's op and flies the camera.

const $ = (id) => document.getElementById(id);

export function attachTour(app) {
  const { page } = app;
  const chapters = JSON.parse(page.outline() || '[]');
  const section = $('tour');
  section.hidden = chapters.length === 0;
  if (!chapters.length) return { show: () => {}, render: () => {} };

  const map = $('tour-map');
  map.replaceChildren(...chapters.map((chapter, index) => {
    const button = document.createElement('button');
    button.textContent = chapter.name;
    button.title = chapter.title;
    button.onclick = () => show(index, 0);
    return button;
  }));

  // The paragraph last asked for: Continue pressed faster than the GPU runs still counts.
  let requested = null;

  function show(chapter, paragraph) {
    requested = { chapter, paragraph };
    const wanted = requested;
    return app.run(() => page.show_paragraph(chapter, paragraph)).then(app.animate).finally(() => {
      if (requested === wanted) requested = null;
    });
  }

  function next() {
    const at = requested ?? app.status()?.narrative;
    if (!at) return show(0, 0);
    if (at.paragraph + 1 < chapters[at.chapter].paragraphs) return show(at.chapter, at.paragraph + 1);
    if (at.chapter + 1 < chapters.length) return show(at.chapter + 1, 0);
    return Promise.resolve();
  }

  $('tour-start').onclick = () => next();
  $('tour-continue').onclick = () => next();
  $('tour-leave').onclick = () => {
    requested = null;
    return app.run(() => page.leave_walkthrough());
  };
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && app.status()?.narrative && document.activeElement?.id !== 'prompt') next();
  });

  // Lays the narrative out from the status.
  function render(status) {
    const narrative = status.narrative;
    $('tour-start').hidden = Boolean(narrative);
    $('tour-continue').hidden = !narrative;
    $('tour-leave').hidden = !narrative;
    for (const [index, button] of Array.from(map.children).entries()) {
      button.classList.toggle('current', narrative?.chapter === index);
    }
    const text = $('tour-text');
    if (!narrative) {
      text.replaceChildren();
      return;
    }
    const title = document.createElement('h3');
    title.textContent = `${narrative.chapter + 1}. ${narrative.title}`;
    const paragraphs = narrative.paragraphs.map((words, p) => {
      const element = document.createElement('p');
      element.classList.toggle('earlier', p < narrative.paragraphs.length - 1);
      for (const [w, word] of words.entries()) {
        const span = document.createElement('span');
        span.textContent = word.text;
        if (word.kind !== 'text') {
          span.className = `word ${word.kind}`;
          span.style.color = word.colour;
        }
        if (word.kind === 'tensor' || word.kind === 'dim') {
          span.onmouseenter = () => {
            page.highlight_word(p, w);
            app.markDirty();
          };
          span.onmouseleave = () => {
            page.highlight_word(-1 >>> 0, 0);
            app.markDirty();
          };
        }
        element.append(span);
      }
      return element;
    });
    const left = document.createElement('p');
    left.className = 'muted';
    left.textContent = narrative.remaining
      ? `${narrative.remaining} more in this chapter`
      : (narrative.chapter + 1 < chapters.length ? `next: ${chapters[narrative.chapter + 1].title}` : 'the end of the walkthrough');
    text.replaceChildren(title, ...paragraphs, left);
    paragraphs[paragraphs.length - 1]?.scrollIntoView({ block: 'nearest' });
  }

  return { show, render };
}
