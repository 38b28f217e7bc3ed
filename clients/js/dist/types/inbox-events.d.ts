/** @param {Notification} a @param {Notification} b newest first, as the server orders them */
export function newestFirst(a: Notification, b: Notification): 1 | -1;
/** @param {Notification} n */
export function expired(n: Notification, now?: number): boolean;
/** `items` with `n` where it now belongs: in its place by time, or out. */
export function place(n: Notification, items: Notification[], shown: Shown): import("./store.js").Notification[];
/**
 * The items after `event`, or RELOAD.
 * @param {InboxEvent} event @param {Notification[]} items
 * @param {number} unreadBefore the unread count before the event @param {Shown} shown
 * @returns {Notification[] | typeof RELOAD}
 */
export function applyEvent(event: InboxEvent, items: Notification[], unreadBefore: number, shown: Shown): Notification[] | typeof RELOAD;
/**
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {import("./store.js").InboxEvent} InboxEvent
 * @typedef {import("./store.js").View} View
 * @typedef {{view: View, category: string | null, tags: string[] | null, hasMore: boolean}} Shown
 */
/** applyEvent's answer when only reading the list again can show what changed. */
export const RELOAD: unique symbol;
export type Notification = import("./store.js").Notification;
export type InboxEvent = import("./store.js").InboxEvent;
export type View = import("./store.js").View;
export type Shown = {
    view: View;
    category: string | null;
    tags: string[] | null;
    hasMore: boolean;
};
