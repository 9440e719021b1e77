// Pointer, touch and wheel on the canvas: one finger (or the left button) orbits, two fingers
// (or the right button, or shift) pan and pinch-zoom, the wheel zooms towards the pointer, and
// hovering (or a tap) asks for the value under it. Coordinates go to the page in canvas pixels.

const TAP_PIXELS = 6;
// One zoom step scales the distance by 0.85 (Camera::zoom).
const LN_STEP = Math.log(1 / 0.85);

export function attachInput(canvas, page, { changed, hover }) {
  const pointers = new Map();
  const scale = () => window.devicePixelRatio || 1;
  const at = (e) => {
    const rect = canvas.getBoundingClientRect();
    return { x: (e.clientX - rect.left) * scale(), y: (e.clientY - rect.top) * scale() };
  };
  let pinch = null;

  canvas.addEventListener('pointerdown', (e) => {
    try {
      canvas.setPointerCapture(e.pointerId);
    } catch {
      // A pointer the browser no longer tracks (or a synthetic one): follow it uncaptured.
    }
    const p = at(e);
    pointers.set(e.pointerId, { ...p, start: p, pan: e.button === 2 || e.shiftKey });
    pinch = pointers.size === 2 ? twoFingers() : null;
  });

  canvas.addEventListener('pointermove', (e) => {
    const p = at(e);
    const last = pointers.get(e.pointerId);
    if (!last) {
      if (e.pointerType === 'mouse') hover(p.x, p.y);
      return;
    }
    if (pointers.size === 1) {
      const dx = p.x - last.x;
      const dy = p.y - last.y;
      if (last.pan) page.pan(dx, dy);
      else page.orbit(dx, dy);
      changed();
    }
    Object.assign(last, p);
    if (pointers.size === 2 && pinch) {
      const now = twoFingers();
      page.pan(now.x - pinch.x, now.y - pinch.y);
      if (pinch.distance > 0 && now.distance > 0) {
        page.zoom(Math.log(now.distance / pinch.distance) / LN_STEP, now.x, now.y);
      }
      pinch = now;
      changed();
    }
  });

  const release = (e) => {
    const last = pointers.get(e.pointerId);
    pointers.delete(e.pointerId);
    pinch = pointers.size === 2 ? twoFingers() : null;
    if (last && e.type === 'pointerup' && e.pointerType !== 'mouse') {
      const moved = Math.hypot(last.x - last.start.x, last.y - last.start.y);
      if (moved < TAP_PIXELS) hover(last.x, last.y);
    }
  };
  canvas.addEventListener('pointerup', release);
  canvas.addEventListener('pointercancel', release);
  canvas.addEventListener('pointerleave', (e) => {
    if (e.pointerType === 'mouse' && !pointers.size) hover(null, null);
  });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const p = at(e);
    page.zoom(-e.deltaY / 100, p.x, p.y);
    changed();
  }, { passive: false });

  function twoFingers() {
    const [a, b] = Array.from(pointers.values());
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, distance: Math.hypot(a.x - b.x, a.y - b.y) };
  }
}
