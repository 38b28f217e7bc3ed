// How a live inbox event changes the list a store shows: pure functions of the event, the items
// and what the list shows (its view, filters and paging).
//
// An event that carries a notification puts it where it now belongs: in the list if it belongs
// to the view and filters, out of it otherwise; EXPIRED and DELETED take it out. One that names
// several marks them (or all in scope) read or seen (UPDATED), removes them (DELETED, EXPIRED)
// or moves the read ones out of the inbox (ARCHIVED); when notifications come into the view
// unnamed, only a reload can show them (RELOAD).

/**
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {import("./store.js").InboxEvent} InboxEvent
 * @typedef {import("./store.js").View} View
 * @typedef {{view: View, category: string | null, tags: string[] | null, hasMore: boolean}} Shown
 */

/** applyEvent's answer when only reading the list again can show what changed. */
export const RELOAD = Symbol("reload");

/** @param {Notification} a @param {Notification} b newest first, as the server orders them */
export function newestFirst(a, b) {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1;
}

/** @param {Notification} n */
export function expired(n, now = Date.now()) {
  return n.expiresAt !== null && Date.parse(n.expiresAt) <= now;
}

/** @param {Notification} n @returns {View} */
function placeOf(n) {
  return n.isArchived ? "archive" : n.snoozedUntil ? "snoozed" : "inbox";
}

/** Whether `n` belongs in the list: the view and the filters shown, and not expired. */
function belongs(/** @type {Notification} */ n, /** @type {Shown} */ shown) {
  const tags = shown.tags;
  return (
    !expired(n) &&
    placeOf(n) === shown.view &&
    (shown.category === null || n.category === shown.category) &&
    (tags === null || n.tags.some((tag) => tags.includes(tag)))
  );
}

/** `items` with `n` where it now belongs: in its place by time, or out. */
export function place(/** @type {Notification} */ n, /** @type {Notification[]} */ items, /** @type {Shown} */ shown) {
  const rest = items.filter((item) => item.id !== n.id);
  if (!belongs(n, shown)) return rest.length === items.length ? items : rest;
  if (rest.length === items.length) {
    // Older than the last loaded one while more pages remain: that page will bring it.
    const last = items[items.length - 1];
    if (shown.hasMore && last && newestFirst(n, last) > 0) return items;
  }
  return [...rest, n].sort(newestFirst);
}

/**
 * The items after `event`, or RELOAD.
 * @param {InboxEvent} event @param {Notification[]} items
 * @param {number} unreadBefore the unread count before the event @param {Shown} shown
 * @returns {Notification[] | typeof RELOAD}
 */
export function applyEvent(event, items, unreadBefore, shown) {
  const n = event.notification;
  if (n) {
    if (event.kind === "EXPIRED" || event.kind === "DELETED") return items.filter((item) => item.id !== n.id);
    return place(n, items, shown);
  }
  const ids = new Set(event.notificationIds);
  const named = (/** @type {Notification} */ item) => ids.has(item.id);
  switch (event.kind) {
    case "UPDATED":
      return marked(event, items, unreadBefore);
    case "DELETED": // all: every read one, in the inbox and the archive
      return items.filter((item) => !(event.all ? item.isRead && !item.snoozedUntil : named(item)));
    case "EXPIRED":
      return items.filter((item) => !named(item));
    case "ARCHIVED": // all: the inbox's read ones
      if (shown.view === "archive") return RELOAD;
      return items.filter((item) => !(event.all ? item.isRead && placeOf(item) === "inbox" : named(item)));
    case "RESURFACED":
      return shown.view === "inbox" ? RELOAD : items.filter((item) => !(shown.view === "snoozed" && named(item)));
    default:
      return RELOAD;
  }
}

/**
 * An UPDATED naming several notifications (or all in scope) says which, not what changed:
 * marking read lowers the unread count, marking seen leaves it.
 * @param {InboxEvent} event @param {Notification[]} items @param {number} unreadBefore
 */
function marked(event, items, unreadBefore) {
  const read = event.unreadCount < unreadBefore;
  const ids = new Set(event.notificationIds);
  const at = new Date().toISOString();
  const touched = (/** @type {Notification} */ item) =>
    event.all
      ? placeOf(item) === "inbox" && (event.category === null || item.category === event.category)
      : ids.has(item.id);
  return items.map((item) => {
    if (!touched(item)) return item;
    if (read && !item.isRead) return { ...item, isRead: true, readAt: at, isSeen: true, seenAt: item.seenAt ?? at };
    return item.isSeen ? item : { ...item, isSeen: true, seenAt: at };
  });
}
