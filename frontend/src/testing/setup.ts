import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// How long findBy… and waitFor wait for what they look for (1 s by default). A bound, not a
// timing: the test command runs every file at once under coverage on two cores, where a
// page of cards can take seconds to render; a passing test waits no longer for it.
configure({ asyncUtilTimeout: 5_000 });

// jsdom has <dialog> but not its methods. This is only what components call: the open
// attribute and the close event. What showModal() really does (top layer, inert page,
// focus kept inside) is checked in a real browser by the e2e test.
if (typeof HTMLDialogElement !== 'undefined' && typeof HTMLDialogElement.prototype.showModal !== 'function') {
  Object.defineProperty(HTMLDialogElement.prototype, 'open', {
    configurable: true,
    get(this: HTMLDialogElement) {
      return this.hasAttribute('open');
    },
    set(this: HTMLDialogElement, value: boolean) {
      this.toggleAttribute('open', value);
    },
  });
  HTMLDialogElement.prototype.show = function show(this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
    if (!this.open) return;
    this.open = false;
    this.dispatchEvent(new Event('close'));
  };
}

afterEach(() => {
  cleanup();
  if (typeof document !== 'undefined') document.title = '';
  // Drafts kept across a sign-in (lib/drafts) must not leak from one test to the next.
  if (typeof window !== 'undefined') window.sessionStorage.clear();
});
