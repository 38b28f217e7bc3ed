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
/**
 * What has focus in `list` or `panel`, to find its like again after they are rendered anew.
 * @param {ShadowRoot} root @param {HTMLElement} list @param {HTMLElement} panel
 */
export function focusKey(root: ShadowRoot, list: HTMLElement, panel: HTMLElement): {
    id: string | null;
    index: number;
    action: string | null;
    arg: string | null;
    category: string | null;
    channel: string | null;
    name: string | null;
} | null;
/**
 * Focus back on what had it before the render (the same button of the same item, the same
 * switch), or near it when it is gone: the next item, else the first control of `dialog`.
 * @param {ShadowRoot} root @param {ReturnType<typeof focusKey>} key
 * @param {HTMLElement} list @param {HTMLElement} panel @param {HTMLElement} dialog
 */
export function restoreFocus(root: ShadowRoot, key: ReturnType<typeof focusKey>, list: HTMLElement, panel: HTMLElement, dialog: HTMLElement): void;
