/** The elements of `root` that Tab reaches, in order (hidden ones left out). */
export function focusables(root: HTMLElement): HTMLElement[];
/**
 * Keeps Tab inside `root`: from its last element to its first, and back.
 * @param {HTMLElement} root @param {() => Element | null} active the focused element in the shadow root
 */
export function trapFocus(root: HTMLElement, active: () => Element | null): void;
/**
 * Two live regions in `root`: polite and assertive. `say` replaces what the chosen one holds,
 * which screen readers then read.
 * @param {HTMLElement} polite @param {HTMLElement} assertive
 */
export function announcer(polite: HTMLElement, assertive: HTMLElement): (/** @type {string} */ text: string, urgent?: boolean) => void;
