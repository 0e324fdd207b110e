// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// react-dom/server (pulled in by @grafana/ui) needs MessageChannel, which jsdom lacks.
// A timer-based channel: Node's worker_threads ports would keep Jest from exiting.
if (typeof global.MessageChannel === 'undefined') {
  global.MessageChannel = class MessageChannel {
    constructor() {
      const port = () => ({
        onmessage: null,
        start() {},
        close() {},
        addEventListener() {},
        removeEventListener() {},
      });
      this.port1 = port();
      this.port2 = port();
      this.port1.postMessage = (data) => setTimeout(() => this.port2.onmessage?.({ data }), 0);
      this.port2.postMessage = (data) => setTimeout(() => this.port1.onmessage?.({ data }), 0);
    }
  };
}

// Combobox measures option text on a 2D canvas; jsdom has none. Approximate widths are enough.
HTMLCanvasElement.prototype.getContext = function () {
  return { font: '', measureText: (text) => ({ width: String(text).length * 7 }) };
};

// Scroll indicators and virtualised option lists observe elements; jsdom has no layout, so nothing ever fires.
class NoLayoutObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
global.IntersectionObserver = global.IntersectionObserver ?? NoLayoutObserver;
global.ResizeObserver = global.ResizeObserver ?? NoLayoutObserver;

// Virtualised lists (Combobox options) render only what fits their measured box; give every element a box.
Object.defineProperties(HTMLElement.prototype, {
  offsetHeight: { configurable: true, get: () => 600 },
  offsetWidth: { configurable: true, get: () => 600 },
});
Object.defineProperties(Element.prototype, {
  clientHeight: { configurable: true, get: () => 600 },
  clientWidth: { configurable: true, get: () => 600 },
});

// findBy*/waitFor wait up to 5 s instead of 1 s: the pages render Grafana's heavy components, and CI
// shares two cores with other work (a wait that is met returns at once; nothing asserted changes).
require('@testing-library/react').configure({ asyncUtilTimeout: 5000 });
