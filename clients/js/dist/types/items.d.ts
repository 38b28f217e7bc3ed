/**
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {object} ItemContext
 * @property {import("./messages.js").Translate} t
 * @property {import("./store.js").View} view
 * @property {string | undefined} timeZone the user's, for absolute times
 * @property {Set<string>} snoozing notifications whose snooze presets are open
 */
/** @param {string} tag @param {string} [className] @param {string} [text] */
export function el(tag: string, className?: string, text?: string): HTMLElement;
/** A button that the list's one click handler dispatches by `data-action`. */
export function button(text: string, action: string, label: string, arg?: string): HTMLButtonElement;
/** The list item for `n`; `content` is a host's own rendering of it (renderItem), if any. */
export function itemNode(n: Notification, ctx: ItemContext, content: Node | null): HTMLElement;
export type Notification = import("./store.js").Notification;
export type ItemContext = {
    t: import("./messages.js").Translate;
    view: import("./store.js").View;
    /**
     * the user's, for absolute times
     */
    timeZone: string | undefined;
    /**
     * notifications whose snooze presets are open
     */
    snoozing: Set<string>;
};
