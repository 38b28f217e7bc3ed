// The inbox as a page shows it: the loaded notifications of one view (the inbox, the archive or
// the snoozed ones), newest first, the unread and unseen counts and the state of paging, kept
// current by Belfry's `inbox` subscription.
//
// Events that carry a notification (CREATED, UPDATED, ARCHIVED, UNARCHIVED, SNOOZED, RESURFACED)
// put it where it now belongs: in the list if it belongs to the view and its filters, out of it
// otherwise; EXPIRED and DELETED take it out. Events without one change several: UPDATED marks
// them (or all in scope) read or seen, DELETED and EXPIRED remove them, ARCHIVED moves the read
// ones out of the inbox. Each carries the user's unread and unseen counts. SYNC carries only the
// counts and comes first and after any gap (a lost broadcast): the store then reloads what it
// shows, so whatever happened meanwhile is caught up. After a reconnect the subscription resumes
// after the last event's cursor, and the server replays what was missed instead: no reload,
// unless the cursor was too old (a SYNC again).
// Mutations go over the same client; their effect arrives as events like any other tab's.

export const NOTIFICATION_FIELDS =
  "id category title body link data priority tags actions { id label url primary } isRead readAt " +
  "isSeen seenAt isArchived archivedAt snoozedUntil interactedAt expiresAt occurrences createdAt team { key name }";

const INBOX = `subscription BelfryInbox($after: String) {
  inbox(after: $after) {
    kind cursor unreadCount unseenCount notificationIds all category quiet notification { ${NOTIFICATION_FIELDS} }
  }
}`;
const PAGE = `query BelfryNotifications($first: Int, $after: String, $filter: NotificationFilter) {
  notifications(first: $first, after: $after, filter: $filter) {
    unreadCount pageInfo { hasNextPage endCursor } edges { node { ${NOTIFICATION_FIELDS} } }
  }
  unseenCount
}`;
const CATEGORIES = "query BelfryCategories { eventCategories { name categories { key description } } }";
/** @param {string} name @param {string} params @param {string} call */
const changing = (name, params, call) => `mutation ${name}(${params}) { ${call} { ${NOTIFICATION_FIELDS} } }`;
const SET_READ = changing("BelfrySetRead", "$id: ID!, $read: Boolean!", "setNotificationRead(id: $id, read: $read)");
const ARCHIVE = changing("BelfryArchive", "$id: ID!", "archiveNotification(id: $id)");
const UNARCHIVE = changing("BelfryUnarchive", "$id: ID!", "unarchiveNotification(id: $id)");
const SNOOZE = changing("BelfrySnooze", "$id: ID!, $until: DateTime!", "snoozeNotification(id: $id, until: $until)");
const UNSNOOZE = changing("BelfryUnsnooze", "$id: ID!", "unsnoozeNotification(id: $id)");
const ACT = changing("BelfryAct", "$id: ID!, $actionId: String!", "recordNotificationAction(id: $id, actionId: $actionId)");
const MARK_ALL = "mutation BelfryMarkAll($category: String) { markAllNotificationsRead(category: $category) { marked } }";
const MARK_SEEN = "mutation BelfryMarkSeen($ids: [ID!]!) { markNotificationsSeen(ids: $ids) { marked } }";
const DELETE = "mutation BelfryDelete($id: ID!) { deleteNotification(id: $id) }";

/** The most a page may hold (the API's limit): a SYNC reloads at most this many. */
const MAX_PAGE = 200;
/** The most ids one markNotificationsSeen takes. */
const MAX_IDS = 1000;
/** What the store can show: the inbox, the archive, or what is snoozed. */
export const VIEWS = /** @type {const} */ (["inbox", "archive", "snoozed"]);
/** setTimeout's longest wait; a later expiry is looked at again then. */
const MAX_TIMER = 2 ** 31 - 1;
/** apply()'s answer when an event says something changed that only a reload can show. */
const RELOAD = Symbol("reload");

/**
 * @typedef {"LOW" | "NORMAL" | "HIGH" | "URGENT"} Priority
 * @typedef {"inbox" | "archive" | "snoozed"} View
 *
 * @typedef {object} NotificationAction
 * @property {string} id
 * @property {string} label
 * @property {string | null} url
 * @property {boolean} primary
 *
 * @typedef {object} Notification
 * @property {string} id
 * @property {string} category
 * @property {string} title
 * @property {string | null} body
 * @property {string | null} link
 * @property {any} data
 * @property {Priority} priority
 * @property {string[]} tags
 * @property {NotificationAction[]} actions
 * @property {boolean} isRead
 * @property {string | null} readAt
 * @property {boolean} isSeen
 * @property {string | null} seenAt
 * @property {boolean} isArchived
 * @property {string | null} archivedAt
 * @property {string | null} snoozedUntil
 * @property {string | null} interactedAt when one of its actions was taken
 * @property {string | null} expiresAt
 * @property {number} occurrences publishes collapsed into it
 * @property {string} createdAt its latest occurrence's time
 * @property {{ key: string, name: string } | null} team the team it came through; null when named
 *
 * @typedef {object} InboxState
 * @property {Notification[]} items loaded notifications of the view and filters, newest first
 * @property {number} unreadCount the user's unread total in the inbox (every category)
 * @property {number} unseenCount the user's unseen total in the inbox (every category)
 * @property {boolean} hasMore more pages to load
 * @property {boolean} loading a page is being fetched
 * @property {boolean} synced the first page has been loaded
 * @property {View} view the inbox, the archive or the snoozed ones
 * @property {string | null} category the filter, or null for all
 * @property {string[] | null} tags shows those with any of these tags, or null for all
 * @property {{key: string, label: string}[]} categories what the filter offers
 * @property {import("./client.js").ConnectionStatus} status the client's connection
 * @property {Error | null} error the last failure, if any
 *
 * @typedef {object} InboxEvent
 * @property {"SYNC" | "CREATED" | "UPDATED" | "DELETED" | "ARCHIVED" | "UNARCHIVED" | "SNOOZED" | "RESURFACED" | "EXPIRED"} kind
 * @property {string} cursor what a subscription resumes after
 * @property {number} unreadCount
 * @property {number} unseenCount
 * @property {Notification | null} notification
 * @property {string[]} notificationIds
 * @property {boolean} all
 * @property {string | null} category
 * @property {boolean} quiet arrived inside the user's quiet hours: show it without a sound
 */

/** @param {Notification} a @param {Notification} b newest first, as the server orders them */
function newestFirst(a, b) {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1;
}

/** @param {Notification} n */
function expired(n, now = Date.now()) {
  return n.expiresAt !== null && Date.parse(n.expiresAt) <= now;
}

/** @param {Notification} n @returns {View} */
function placeOf(n) {
  return n.isArchived ? "archive" : n.snoozedUntil ? "snoozed" : "inbox";
}

/** The GraphQL error code of a failure (`extensions.code`), if it has one. */
export function errorCode(/** @type {any} */ error) {
  return error?.errors?.[0]?.extensions?.code ?? null;
}

/** Seconds the server asked to wait before trying again (RATE_LIMITED), if it did. */
export function retryAfterSeconds(/** @type {any} */ error) {
  const seconds = error?.errors?.[0]?.extensions?.retryAfterSeconds;
  return typeof seconds === "number" && seconds >= 0 ? seconds : null;
}

/** Exponential back-off with jitter, capped at 30 s. */
function backoff(/** @type {number} */ attempt) {
  const base = Math.min(30_000, 1000 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

/** @param {string[] | null | undefined} tags null for none, else the tags once each */
function normalTags(tags) {
  return tags && tags.length ? [...new Set(tags)] : null;
}

/**
 * @param {ReturnType<typeof import("./client.js").createBelfryClient>} client
 * @param {{pageSize?: number, category?: string | null, view?: View, tags?: string[] | null}} [options]
 */
export function createInboxStore(client, options = {}) {
  const pageSize = Math.min(MAX_PAGE, Math.max(1, options.pageSize ?? 20));
  /** @type {InboxState} */
  let state = {
    items: [],
    unreadCount: 0,
    unseenCount: 0,
    hasMore: false,
    loading: false,
    synced: false,
    view: checkView(options.view ?? "inbox"),
    category: options.category ?? null,
    tags: normalTags(options.tags),
    categories: [],
    status: client.status,
    error: null,
  };
  /** @type {string | null} */
  let endCursor = null;
  /** @type {Set<(state: InboxState) => void>} */
  const listeners = new Set();
  /** @type {Set<(notification: Notification, event: InboxEvent) => void>} */
  const arrivals = new Set();
  /** @type {InboxEvent[] | null} events that came while a reload was in flight, else null */
  let held = null;
  let generation = 0; // bumped by each reload, so a stale page is dropped
  /** @type {Set<string>} */
  const catalogue = new Set();
  /** @type {Map<string, string>} */
  const labels = new Map();
  /** @type {(() => void) | null} */
  let stopInbox = null;
  /** @type {(() => void) | null} */
  let stopStatus = null;
  let failures = 0; // subscription failures in a row, for the back-off
  let newest = ""; // the latest createdAt seen, to tell a collapsed publish from other updates
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let expiry;

  /** @param {Partial<InboxState>} changes */
  function update(changes) {
    state = { ...state, ...changes };
    if ("items" in changes) scheduleExpiry();
    for (const listener of listeners) listener(state);
  }

  /** Takes expired notifications out when their time comes, even before the server says so. */
  function scheduleExpiry() {
    clearTimeout(expiry);
    const times = state.items.filter((n) => n.expiresAt !== null).map((n) => Date.parse(/** @type {string} */ (n.expiresAt)));
    if (!times.length) return;
    const wait = Math.min(MAX_TIMER, Math.max(0, Math.min(...times) - Date.now()));
    expiry = setTimeout(() => {
      const now = Date.now();
      if (state.items.some((n) => expired(n, now))) update({ items: state.items.filter((n) => !expired(n, now)) });
      else scheduleExpiry();
    }, wait);
  }

  function filterParam() {
    /** @type {Record<string, any>} */
    const filter = {};
    if (state.category) filter.categories = [state.category];
    if (state.tags) filter.tags = state.tags;
    if (state.view === "archive") filter.archived = "ONLY";
    if (state.view === "snoozed") filter.snoozed = true;
    return filter;
  }

  /** Whether `n` belongs in the list: the view and the filters shown, and not expired. */
  function belongs(/** @type {Notification} */ n) {
    const tags = state.tags;
    return (
      !expired(n) &&
      placeOf(n) === state.view &&
      (state.category === null || n.category === state.category) &&
      (tags === null || n.tags.some((tag) => tags.includes(tag)))
    );
  }

  /** `items` with `n` where it now belongs: in its place by time, or out. */
  function place(/** @type {Notification} */ n, /** @type {Notification[]} */ items) {
    const rest = items.filter((item) => item.id !== n.id);
    if (!belongs(n)) return rest.length === items.length ? items : rest;
    if (rest.length === items.length) {
      // Older than the last loaded one while more pages remain: that page will bring it.
      const last = items[items.length - 1];
      if (state.hasMore && last && newestFirst(n, last) > 0) return items;
    }
    return [...rest, n].sort(newestFirst);
  }

  /** @param {string[]} keys */
  function noteCategories(keys) {
    const before = catalogue.size;
    for (const key of keys) catalogue.add(key);
    if (catalogue.size !== before || state.categories.length === 0) {
      const categories = [...catalogue].sort().map((key) => ({ key, label: labels.get(key) ?? key }));
      state = { ...state, categories };
    }
  }

  /** @param {Error} error */
  function fail(error) {
    update({ error, loading: false });
  }

  /**
   * Applies one live event to the list: the items after it, or RELOAD when what it changed
   * can only be seen by reading the list again (notifications coming into the view unnamed).
   * @param {InboxEvent} event @param {Notification[]} items @param {number} unreadBefore
   * @returns {Notification[] | typeof RELOAD}
   */
  function apply(event, items, unreadBefore) {
    const n = event.notification;
    if (n) {
      noteCategories([n.category]); // the filter offers it even while another is shown
      if (event.kind === "EXPIRED" || event.kind === "DELETED") return items.filter((item) => item.id !== n.id);
      return place(n, items);
    }
    const ids = new Set(event.notificationIds);
    const named = (/** @type {Notification} */ item) => ids.has(item.id);
    const inInbox = (/** @type {Notification} */ item) => placeOf(item) === "inbox";
    switch (event.kind) {
      case "UPDATED":
        return markedAll(event, items, unreadBefore);
      case "DELETED": // all: every read one, in the inbox and the archive
        return items.filter((item) => !(event.all ? item.isRead && !item.snoozedUntil : named(item)));
      case "EXPIRED":
        return items.filter((item) => !named(item));
      case "ARCHIVED": // all: the inbox's read ones
        if (state.view === "archive") return RELOAD;
        return items.filter((item) => !(event.all ? item.isRead && inInbox(item) : named(item)));
      case "RESURFACED":
        return state.view === "inbox" ? RELOAD : items.filter((item) => !(state.view === "snoozed" && named(item)));
      default:
        return RELOAD;
    }
  }

  /**
   * An UPDATED naming several notifications (or all in scope) says which, not what changed:
   * marking read lowers the unread count, marking seen leaves it.
   * @param {InboxEvent} event @param {Notification[]} items @param {number} unreadBefore
   */
  function markedAll(event, items, unreadBefore) {
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

  /** @param {InboxEvent} event */
  function receive(event) {
    failures = 0;
    const counts = { unreadCount: event.unreadCount, unseenCount: event.unseenCount };
    if (event.kind === "SYNC") {
      update(counts);
      reload();
      return;
    }
    const before = event.notification ? state.items.find((n) => n.id === event.notification?.id) : undefined;
    if (held) {
      held.push(event);
    } else {
      const items = apply(event, state.items, state.unreadCount);
      if (items === RELOAD) {
        update(counts);
        reload();
      } else update({ items, ...counts });
    }
    announce(event, before);
  }

  /**
   * Tells the arrival listeners of a new notification, or of a new occurrence collapsed into
   * one: an UPDATED with more occurrences than known, or newer than any seen here.
   * @param {InboxEvent} event @param {Notification | undefined} before its copy shown until now
   */
  function announce(event, before) {
    const n = event.notification;
    if (!n) return;
    const collapsed =
      event.kind === "UPDATED" && n.occurrences > 1 && (before ? n.occurrences > before.occurrences : n.createdAt > newest);
    if (n.createdAt > newest) newest = n.createdAt;
    if (event.kind !== "CREATED" && !collapsed) return;
    for (const listener of arrivals) listener(n, event);
  }

  /**
   * Fetches the first `count` notifications afresh and shows them, then the events that came
   * meanwhile (applying one twice is harmless: each sets a state rather than changing it).
   */
  async function reload(count = Math.max(pageSize, state.items.length)) {
    const mine = ++generation;
    held = held ?? [];
    update({ loading: true });
    try {
      const data = await client.request(PAGE, { first: Math.min(MAX_PAGE, count), filter: filterParam() });
      if (mine !== generation) return;
      const page = data.notifications;
      /** @type {Notification[] | typeof RELOAD} */
      let items = page.edges.map((/** @type {any} */ edge) => edge.node);
      endCursor = page.pageInfo.endCursor;
      state = { ...state, hasMore: page.pageInfo.hasNextPage };
      noteCategories(/** @type {Notification[]} */ (items).map((n) => n.category));
      for (const n of /** @type {Notification[]} */ (items)) if (n.createdAt > newest) newest = n.createdAt;
      let again = false;
      let unreadCount = page.unreadCount;
      let unseenCount = data.unseenCount;
      for (const event of held ?? []) {
        const next = apply(event, /** @type {Notification[]} */ (items), unreadCount);
        if (next === RELOAD) again = true;
        else items = next;
        ({ unreadCount, unseenCount } = event);
      }
      held = null;
      update({ items: /** @type {Notification[]} */ (items), unreadCount, unseenCount, loading: false, synced: true, error: null });
      if (again) reload();
    } catch (error) {
      if (mine !== generation) return;
      held = null;
      fail(/** @type {Error} */ (error));
      // Over the rate limit: read again once the server says the window has passed.
      const wait = retryAfterSeconds(error);
      if (wait !== null) {
        clearTimeout(retry);
        retry = setTimeout(() => stopInbox && reload(), wait * 1000);
      }
    }
  }

  async function loadCatalogue() {
    try {
      const data = await client.request(CATEGORIES);
      for (const group of data.eventCategories) {
        for (const category of group.categories) labels.set(category.key, category.description || category.key);
      }
      noteCategories(data.eventCategories.flatMap((/** @type {any} */ g) => g.categories.map((/** @type {any} */ c) => c.key)));
      update({});
    } catch {
      // The filter then offers the categories seen in the inbox.
    }
  }

  /** Follows the inbox; a refused subscription (over the rate limit, say) is tried again. */
  function follow() {
    // graphql-ws sends this same payload again after a reconnect: it resumes from there.
    const payload = { query: INBOX, variables: { after: /** @type {string | null} */ (null) } };
    stopInbox = client.subscribe(payload, {
      next: (result) => {
        if (!result.data) return fail(new Error(result.errors?.[0]?.message));
        payload.variables.after = result.data.inbox.cursor;
        receive(result.data.inbox);
      },
      error: (error) => {
        // graphql-ws gives up on a socket that failed to open with the browser's error Event.
        fail(error instanceof Error ? error : Object.assign(new Error("The connection failed"), { cause: error }));
        // The client gave up (no valid token) or was closed: nothing to try again with.
        if (!stopInbox || client.status === "unauthorized" || client.status === "closed") return;
        const wait = retryAfterSeconds(error);
        clearTimeout(retry);
        retry = setTimeout(() => {
          if (!stopInbox) return;
          stopInbox();
          follow();
        }, wait !== null ? wait * 1000 : backoff(failures++));
      },
    });
  }

  /** A notification a mutation answered with, put where it now belongs. */
  function changed(/** @type {Notification} */ n) {
    update({ items: place(n, state.items) });
    return n;
  }

  /** Shows the first page for the view and filters now set. */
  async function showAfresh(/** @type {Partial<InboxState>} */ changes) {
    update({ ...changes, items: [], hasMore: false, loading: true });
    await reload(pageSize);
  }

  /** @param {string[]} ids */
  async function markSeenNow(ids) {
    let marked = 0;
    for (let i = 0; i < ids.length; i += MAX_IDS) {
      const chunk = ids.slice(i, i + MAX_IDS);
      try {
        marked += (await client.request(MARK_SEEN, { ids: chunk })).markNotificationsSeen.marked;
      } catch (error) {
        // Deleted or expired since it was shown: mark the others.
        const invalid = new Set(/** @type {any} */ (error)?.errors?.[0]?.extensions?.invalidIds ?? []);
        const rest = chunk.filter((id) => !invalid.has(id));
        if (errorCode(error) !== "INVALID_NOTIFICATION_IDS" || !invalid.size || rest.length === chunk.length) throw error;
        if (rest.length) marked += (await client.request(MARK_SEEN, { ids: rest })).markNotificationsSeen.marked;
      }
    }
    const at = new Date().toISOString();
    const set = new Set(ids);
    update({ items: state.items.map((n) => (set.has(n.id) && !n.isSeen ? { ...n, isSeen: true, seenAt: at } : n)) });
    return marked;
  }

  return {
    /** @returns {InboxState} */
    get state() {
      return state;
    },
    /**
     * Calls `listener` with the state now and after every change; returns the unsubscribe.
     * @param {(state: InboxState) => void} listener
     */
    subscribe(listener) {
      listeners.add(listener);
      listener(state);
      return () => listeners.delete(listener);
    },
    /**
     * Calls `listener` with each notification that arrives live (a new one, or a new occurrence
     * collapsed into one), whichever view is shown; returns the unsubscribe.
     * @param {(notification: Notification, event: InboxEvent) => void} listener
     */
    onNotification(listener) {
      arrivals.add(listener);
      return () => arrivals.delete(listener);
    },
    /** Starts following the inbox (the subscription's first SYNC loads the first page). */
    start() {
      if (stopInbox) return;
      stopStatus = client.onStatus((status) => update({ status }));
      follow();
      loadCatalogue();
    },
    stop() {
      clearTimeout(retry);
      clearTimeout(expiry);
      stopStatus?.();
      stopStatus = null;
      const stop = stopInbox;
      stopInbox = null;
      stop?.();
    },
    /** Loads the next page of the view, if there is one. */
    async loadMore() {
      if (!state.hasMore || state.loading || held) return;
      const mine = generation;
      update({ loading: true });
      try {
        const data = await client.request(PAGE, { first: pageSize, after: endCursor, filter: filterParam() });
        if (mine !== generation) return;
        const page = data.notifications;
        const known = new Set(state.items.map((n) => n.id));
        const more = page.edges.map((/** @type {any} */ e) => e.node).filter((/** @type {Notification} */ n) => !known.has(n.id));
        endCursor = page.pageInfo.endCursor;
        noteCategories(more.map((/** @type {Notification} */ n) => n.category));
        update({ items: [...state.items, ...more], hasMore: page.pageInfo.hasNextPage, loading: false });
      } catch (error) {
        fail(/** @type {Error} */ (error));
      }
    },
    /** Shows one category only (null: all) from its first page. */
    async setCategory(/** @type {string | null} */ category) {
      if (category === state.category) return;
      await showAfresh({ category });
    },
    /** Shows the inbox, the archive or the snoozed notifications, from the first page. */
    async setView(/** @type {View} */ view) {
      if (checkView(view) === state.view) return;
      await showAfresh({ view });
    },
    /** Shows those with any of `tags` (null or []: all), from the first page. */
    async setTags(/** @type {string[] | null} */ tags) {
      const wanted = normalTags(tags);
      if (JSON.stringify(wanted) === JSON.stringify(state.tags)) return;
      await showAfresh({ tags: wanted });
    },
    /** @param {string} id */
    markRead: (id) => setRead(id, true),
    /** @param {string} id */
    markUnread: (id) => setRead(id, false),
    setRead,
    /** Marks everything read, or only the current category when one is chosen. */
    async markAllRead() {
      const data = await client.request(MARK_ALL, { category: state.category });
      return data.markAllNotificationsRead.marked;
    },
    /**
     * Marks notifications seen (what the badge counts by default): these ids, or every unseen
     * one shown. Resolves with how many were marked.
     * @param {string[]} [ids]
     */
    async markSeen(ids) {
      const wanted = ids ?? state.items.filter((n) => !n.isSeen).map((n) => n.id);
      return wanted.length ? markSeenNow(wanted) : 0;
    },
    /** Into the archive (out of the inbox and its badges). @param {string} id */
    archive: async (id) => changed((await client.request(ARCHIVE, { id })).archiveNotification),
    /** Back into the inbox. @param {string} id */
    unarchive: async (id) => changed((await client.request(UNARCHIVE, { id })).unarchiveNotification),
    /**
     * Out of the inbox until `until` (a Date or an ISO string, 1 minute to 90 days ahead).
     * @param {string} id @param {Date | string} until
     */
    async snooze(id, until) {
      const at = until instanceof Date ? until.toISOString() : until;
      return changed((await client.request(SNOOZE, { id, until: at })).snoozeNotification);
    },
    /** Back in the inbox now. @param {string} id */
    unsnooze: async (id) => changed((await client.request(UNSNOOZE, { id })).unsnoozeNotification),
    /**
     * Records that the user took one of the notification's actions (which marks it read);
     * resolves with that action, whose `url` the caller may follow (through safeLink).
     * @param {string} id @param {string} actionId
     * @returns {Promise<NotificationAction | null>}
     */
    async act(id, actionId) {
      const n = changed((await client.request(ACT, { id, actionId })).recordNotificationAction);
      return n.actions.find((action) => action.id === actionId) ?? null;
    },
    /** @param {string} id */
    async delete(id) {
      update({ items: state.items.filter((n) => n.id !== id) }); // hidden at once, as the server does
      try {
        return (await client.request(DELETE, { id })).deleteNotification;
      } catch (error) {
        reload(); // it was not deleted after all: show it again
        throw error;
      }
    },
  };

  /** @param {string} id @param {boolean} read */
  async function setRead(id, read) {
    return changed((await client.request(SET_READ, { id, read })).setNotificationRead);
  }
}

/** @param {string} view @returns {View} */
function checkView(view) {
  if (!VIEWS.includes(/** @type {View} */ (view))) throw new TypeError(`view must be one of ${VIEWS.join(", ")}`);
  return /** @type {View} */ (view);
}
