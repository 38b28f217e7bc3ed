// What the popover does for keyboard and screen-reader users, after the WAI-ARIA dialog
// pattern: focus moves in when it opens and stays in while it is open (Tab and Shift+Tab wrap),
// and new notifications are read out through live regions (assertive for URGENT ones).

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements of `root` that Tab reaches, in order (hidden ones left out). */
export function focusables(/** @type {HTMLElement} */ root) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll(FOCUSABLE)]).filter((node) => node.getClientRects().length > 0);
}

/**
 * Keeps Tab inside `root`: from its last element to its first, and back.
 * @param {HTMLElement} root @param {() => Element | null} active the focused element in the shadow root
 */
export function trapFocus(root, active) {
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const all = focusables(root);
    if (!all.length) return;
    const first = all[0];
    const last = all[all.length - 1];
    const now = active();
    if (event.shiftKey && (now === first || !root.contains(now))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (now === last || !root.contains(now))) {
      event.preventDefault();
      first.focus();
    }
  });
}

/**
 * Two live regions in `root`: polite and assertive. `say` replaces what the chosen one holds,
 * which screen readers then read.
 * @param {HTMLElement} polite @param {HTMLElement} assertive
 */
export function announcer(polite, assertive) {
  return (/** @type {string} */ text, urgent = false) => {
    const region = urgent ? assertive : polite;
    region.textContent = "";
    // Set in a later task: some readers skip a change to the text they just read.
    setTimeout(() => (region.textContent = text), 50);
  };
}
