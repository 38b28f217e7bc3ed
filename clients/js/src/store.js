// The inbox as a page shows it: the loaded notifications (newest first), the unread count and
// the state of paging, kept current by Belfry's `inbox` subscription.
//
// Events: CREATED adds a notification, UPDATED changes one (or marks several or all read),
// DELETED removes one (or all read ones); each carries the user's unread count. SYNC carries
// only the unread count and comes first and after any gap (a lost broadcast): the store then
// reloads what it shows, so whatever happened meanwhile is caught up. After a reconnect the
// subscription resumes after the last event's cursor, and the server replays what was missed
// instead: no reload, unless the cursor was too old (a SYNC again).
// Mutations go over the same client; their effect arrives as events like any other tab's.

export const NOTIFICATION_FIELDS = "id category title body link data isRead readAt createdAt team { key name }";

const INBOX = `subscription BelfryInbox($after: String) {
  inbox(after: $after) {
    kind cursor unreadCount notificationIds all category notification { ${NOTIFICATION_FIELDS} }
  }
}`;
const PAGE = `query BelfryNotifications($first: Int, $after: String, $filter: NotificationFilter) {
  notifications(first: $first, after: $after, filter: $filter) {
    unreadCount pageInfo { hasNextPage endCursor } edges { node { ${NOTIFICATION_FIELDS} } }
  }
}`;
const CATEGORIES = "query BelfryCategories { eventCategories { name categories { key description } } }";
const SET_READ = `mutation BelfrySetRead($id: ID!, $read: Boolean!) {
  setNotificationRead(id: $id, read: $read) { ${NOTIFICATION_FIELDS} }
}`;
const MARK_ALL = "mutation BelfryMarkAll($category: String) { markAllNotificationsRead(category: $category) { marked } }";
const DELETE = "mutation BelfryDelete($id: ID!) { deleteNotification(id: $id) }";

/** The most a page may hold (the API's limit): a SYNC reloads at most this many. */
const MAX_PAGE = 200;

/**
 * @typedef {object} Notification
 * @property {string} id
 * @property {string} category
 * @property {string} title
 * @property {string | null} body
 * @property {string | null} link
 * @property {any} data
 * @property {boolean} isRead
 * @property {string | null} readAt
 * @property {string} createdAt
 * @property {{ key: string, name: string } | null} team the team it came through; null when named
 *
 * @typedef {object} InboxState
 * @property {Notification[]} items loaded notifications in the current category, newest first
 * @property {number} unreadCount the user's unread total (every category)
 * @property {boolean} hasMore more pages to load
 * @property {boolean} loading a page is being fetched
 * @property {boolean} synced the first SYNC has been applied
 * @property {string | null} category the filter, or null for all
 * @property {{key: string, label: string}[]} categories what the filter offers
 * @property {Error | null} error the last failure, if any
 *
 * @typedef {object} InboxEvent
 * @property {"SYNC" | "CREATED" | "UPDATED" | "DELETED"} kind
 * @property {string} cursor what a subscription resumes after
 * @property {number} unreadCount
 * @property {Notification | null} notification
 * @property {string[]} notificationIds
 * @property {boolean} all
 * @property {string | null} category
 */

/** @param {Notification} a @param {Notification} b newest first, as the server orders them */
function newestFirst(a, b) {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1;
}

/**
 * @param {ReturnType<typeof import("./client.js").createBelfryClient>} client
 * @param {{pageSize?: number, category?: string | null}} [options]
 */
export function createInboxStore(client, options = {}) {
  const pageSize = Math.min(MAX_PAGE, Math.max(1, options.pageSize ?? 20));
  /** @type {InboxState} */
  let state = {
    items: [],
    unreadCount: 0,
    hasMore: false,
    loading: false,
    synced: false,
    category: options.category ?? null,
    categories: [],
    error: null,
  };
  /** @type {string | null} */
  let endCursor = null;
  /** @type {Set<(state: InboxState) => void>} */
  const listeners = new Set();
  /** @type {InboxEvent[] | null} events that came while a reload was in flight, else null */
  let held = null;
  let generation = 0; // bumped by each reload, so a stale page is dropped
  /** @type {Set<string>} */
  const catalogue = new Set();
  /** @type {Map<string, string>} */
  const labels = new Map();
  /** @type {(() => void) | null} */
  let stopInbox = null;

  /** @param {Partial<InboxState>} changes */
  function update(changes) {
    state = { ...state, ...changes };
    for (const listener of listeners) listener(state);
  }

  function filterParam() {
    return state.category ? { categories: [state.category] } : null;
  }

  /** @param {Notification} n */
  function inScope(n) {
    return state.category === null || n.category === state.category;
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

  /** Applies one live event to the list; returns the items after it. */
  function apply(/** @type {InboxEvent} */ event, /** @type {Notification[]} */ items) {
    const ids = new Set(event.notificationIds);
    switch (event.kind) {
      case "CREATED": {
        const n = event.notification;
        if (n) noteCategories([n.category]); // the filter offers it even while another is shown
        if (!n || !inScope(n) || items.some((item) => item.id === n.id)) return items;
        // Older than the last loaded one while more pages remain: that page will bring it.
        const last = items[items.length - 1];
        if (state.hasMore && last && newestFirst(n, last) > 0) return items;
        return [...items, n].sort(newestFirst);
      }
      case "UPDATED": {
        if (event.notification) {
          const n = event.notification;
          return items.map((item) => (item.id === n.id ? n : item));
        }
        const readAt = new Date().toISOString();
        const touched = (/** @type {Notification} */ item) =>
          event.all ? event.category === null || item.category === event.category : ids.has(item.id);
        return items.map((item) => (!item.isRead && touched(item) ? { ...item, isRead: true, readAt } : item));
      }
      case "DELETED":
        return items.filter((item) => (event.all ? !item.isRead : !ids.has(item.id)));
      default:
        return items;
    }
  }

  /** @param {InboxEvent} event */
  function receive(event) {
    if (event.kind === "SYNC") {
      update({ unreadCount: event.unreadCount });
      reload();
      return;
    }
    if (held) {
      held.push(event);
      return;
    }
    update({ items: apply(event, state.items), unreadCount: event.unreadCount });
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
      let items = page.edges.map((/** @type {any} */ edge) => edge.node);
      endCursor = page.pageInfo.endCursor;
      state = { ...state, hasMore: page.pageInfo.hasNextPage };
      noteCategories(items.map((/** @type {Notification} */ n) => n.category));
      let unreadCount = page.unreadCount;
      for (const event of held ?? []) {
        items = apply(event, items);
        unreadCount = event.unreadCount;
      }
      held = null;
      update({ items, unreadCount, loading: false, synced: true, error: null });
    } catch (error) {
      if (mine !== generation) return;
      held = null;
      fail(/** @type {Error} */ (error));
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
    /** Starts following the inbox (the subscription's first SYNC loads the first page). */
    start() {
      if (stopInbox) return;
      // graphql-ws sends this same payload again after a reconnect: it resumes from there.
      const payload = { query: INBOX, variables: { after: null } };
      stopInbox = client.subscribe(payload, {
        next: (result) => {
          if (!result.data) return fail(new Error(result.errors?.[0]?.message));
          payload.variables.after = result.data.inbox.cursor;
          receive(result.data.inbox);
        },
        error: fail,
      });
      loadCatalogue();
    },
    stop() {
      stopInbox?.();
      stopInbox = null;
    },
    /** Loads the next page of the current category, if there is one. */
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
      update({ category, items: [], hasMore: false, loading: true });
      await reload(pageSize);
    },
    /** @param {string} id */
    markRead: (id) => setRead(id, true),
    /** @param {string} id */
    markUnread: (id) => setRead(id, false),
    /** Marks everything read, or only the current category when one is chosen. */
    async markAllRead() {
      const data = await client.request(MARK_ALL, { category: state.category });
      return data.markAllNotificationsRead.marked;
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
    const data = await client.request(SET_READ, { id, read });
    const n = data.setNotificationRead;
    update({ items: state.items.map((item) => (item.id === n.id ? n : item)) });
    return n;
  }
}
