// <belfry-inbox>: a bell with the live unread badge and a popover listing the inbox, built on
// the client and store alone (no framework), in a shadow root so page styles do not leak in.
//
//   <belfry-inbox url="https://belfry.example.com/graphql" token-url="/belfry-token"></belfry-inbox>
//
// Attributes: `url` (http(s) or ws(s); default this origin's /graphql), `token` or `token-url`,
// `page-size`. Property `getToken` (a function returning a token or a promise of one) takes
// precedence over both. Events (bubbling, composed): `belfry-unread-change` {unreadCount},
// `belfry-status` {status}, `belfry-notification-click` {notification} (cancelable: by default
// a notification's link is followed, when it is an http(s) URL or a path on this site).
import { createBelfryClient } from "./client.js";
import { safeLink } from "./links.js";
import { createInboxStore } from "./store.js";
import { STYLES } from "./styles.js";
import { tokenFromEndpoint } from "./token.js";

const BELL = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/></svg>`;

const TEMPLATE = `<style>${STYLES}</style>
<button class="bell" part="bell" aria-haspopup="dialog" aria-expanded="false" aria-label="Notifications">
  ${BELL}<span class="badge" part="badge" hidden></span>
</button>
<section class="popover" part="popover" role="dialog" aria-label="Notifications" hidden>
  <header>
    <h2>Notifications</h2>
    <select class="category" aria-label="Category"><option value="">All categories</option></select>
    <button class="mark-all" type="button">Mark all read</button>
  </header>
  <div class="scroller">
    <ol class="list"></ol>
    <p class="note" hidden></p>
  </div>
</section>`;

/** How close to the end of the list (px) the next page starts loading. */
const LOAD_AHEAD = 120;

// Node (the client's tests, server-side rendering) has no HTMLElement: define nothing there.
const Base = /** @type {typeof HTMLElement} */ (globalThis.HTMLElement ?? class {});

/** @param {string} iso */
function timeAgo(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  const steps = /** @type {const} */ ([
    [60, "second"],
    [3600, "minute"],
    [86400, "hour"],
    [604800, "day"],
    [Infinity, "week"],
  ]);
  const sizes = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };
  const [, unit] = steps.find(([limit]) => Math.abs(seconds) < limit) ?? steps[4];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(seconds / sizes[unit]), unit);
}

export class BelfryInboxElement extends Base {
  static observedAttributes = ["url", "token", "token-url", "page-size", "credentials"];

  constructor() {
    super();
    /** @type {import("./token.js").TokenSource | undefined} */
    this._getToken = undefined;
    /** @type {ReturnType<typeof createBelfryClient> | null} */
    this.client = null;
    /** @type {ReturnType<typeof createInboxStore> | null} */
    this.store = null;
    /** @type {(() => void)[]} */
    this._teardown = [];
    this._lastUnread = -1;
    this._restarting = false;
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = TEMPLATE;
    const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (root.querySelector(selector));
    this._bell = $(".bell");
    this._badge = $(".badge");
    this._popover = $(".popover");
    this._select = /** @type {HTMLSelectElement} */ ($(".category"));
    this._markAll = $(".mark-all");
    this._scroller = $(".scroller");
    this._list = $(".list");
    this._note = $(".note");
    this._bindUi();
    // A framework may have set getToken before this element was defined: as an own property,
    // which would hide the setter below. Take it over.
    if (Object.prototype.hasOwnProperty.call(this, "getToken")) {
      const source = /** @type {any} */ (this).getToken;
      delete (/** @type {any} */ (this).getToken);
      this.getToken = source;
    }
  }

  /** A function returning the user token (or a promise of it); set it instead of `token`. */
  get getToken() {
    return this._getToken;
  }

  set getToken(source) {
    this._getToken = source;
    this._restart();
  }

  get open() {
    return !this._popover.hidden;
  }

  set open(value) {
    this._popover.hidden = !value;
    this._bell.setAttribute("aria-expanded", String(Boolean(value)));
    if (value) this._maybeLoadMore();
  }

  connectedCallback() {
    this._restart();
    const outside = (/** @type {Event} */ event) => {
      if (this.open && !event.composedPath().includes(this)) this.open = false;
    };
    document.addEventListener("click", outside);
    this._teardown.push(() => document.removeEventListener("click", outside));
  }

  disconnectedCallback() {
    this._stop();
    for (const undo of this._teardown.splice(0)) undo();
  }

  attributeChangedCallback() {
    this._restart();
  }

  /** Starts afresh once the current task's changes are in (a parser sets attributes one by one). */
  _restart() {
    if (this._restarting) return;
    this._restarting = true;
    queueMicrotask(() => {
      this._restarting = false;
      this._stop();
      if (this.isConnected) this._start();
    });
  }

  /** The token source from the property or the attributes, or null while there is none. */
  _tokenSource() {
    if (this._getToken) return this._getToken;
    const endpoint = this.getAttribute("token-url");
    if (endpoint) return tokenFromEndpoint(new URL(endpoint, location.href).toString());
    const token = this.getAttribute("token");
    return token ? () => token : null;
  }

  _start() {
    const getToken = this._tokenSource();
    const credentials = this.getAttribute("credentials") === "include" ? "include" : undefined;
    if ((!getToken && !credentials) || this.client) return; // a framework may set getToken after mounting
    this.client = createBelfryClient({ url: this.getAttribute("url") ?? undefined, getToken: getToken ?? undefined, credentials });
    this.store = createInboxStore(this.client, { pageSize: Number(this.getAttribute("page-size")) || 20 });
    const offStatus = this.client.onStatus((status) => this._emit("belfry-status", { status }));
    const offState = this.store.subscribe((state) => this._render(state));
    this._stopStore = () => {
      offStatus();
      offState();
    };
    this.store.start();
  }

  _stop() {
    this._stopStore?.();
    this.store?.stop();
    this.client?.dispose();
    this.client = null;
    this.store = null;
  }

  /** @param {string} type @param {any} detail @param {boolean} [cancelable] */
  _emit(type, detail, cancelable = false) {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }));
  }

  _bindUi() {
    this._bell.addEventListener("click", () => (this.open = !this.open));
    this._popover.addEventListener("keydown", (event) => {
      if (/** @type {KeyboardEvent} */ (event).key === "Escape") {
        this.open = false;
        this._bell.focus();
      }
    });
    this._select.addEventListener("change", () => this.store?.setCategory(this._select.value || null));
    this._markAll.addEventListener("click", () => this._act(() => this.store?.markAllRead()));
    this._scroller.addEventListener("scroll", () => this._maybeLoadMore(), { passive: true });
    this._list.addEventListener("click", (event) => this._onListClick(event));
  }

  /** One listener for every item's buttons and links (the list is re-rendered often). */
  _onListClick(/** @type {Event} */ event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const item = target.closest("li");
    const store = this.store;
    if (!item || !store) return;
    const id = /** @type {string} */ (item.dataset.id);
    const action = target.closest("button")?.dataset.action;
    if (action === "read") this._act(() => store.markRead(id));
    else if (action === "unread") this._act(() => store.markUnread(id));
    else if (action === "delete") this._act(() => store.delete(id));
    else if (target.closest("a")) {
      const notification = store.state.items.find((n) => n.id === id);
      if (!this._emit("belfry-notification-click", { notification }, true)) event.preventDefault();
      if (notification && !notification.isRead) this._act(() => store.markRead(id));
    }
  }

  /** Runs a store action; a failure shows in the popover instead of going unnoticed. */
  _act(/** @type {() => Promise<unknown> | undefined} */ action) {
    Promise.resolve(action()).catch((/** @type {Error} */ error) => this._showNote(error.message));
  }

  _showNote(/** @type {string} */ text) {
    this._note.textContent = text;
    this._note.hidden = !text;
  }

  _maybeLoadMore() {
    const s = this._scroller;
    const state = this.store?.state;
    if (!this.open || !state?.hasMore || state.loading) return;
    if (s.scrollHeight - s.scrollTop - s.clientHeight < LOAD_AHEAD) this.store?.loadMore();
  }

  /** @param {import("./store.js").InboxState} state */
  _render(state) {
    this._renderBadge(state.unreadCount);
    this._renderCategories(state);
    const top = this._scroller.scrollTop;
    this._list.replaceChildren(...state.items.map((n) => this._renderItem(n)));
    this._scroller.scrollTop = top;
    const empty = state.synced && !state.loading && state.items.length === 0;
    this._showNote(state.error ? state.error.message : empty ? "You're all caught up." : state.loading ? "Loading…" : "");
    // A short first page leaves nothing to scroll: load on until the list fills the popover.
    queueMicrotask(() => this._maybeLoadMore());
  }

  _renderBadge(/** @type {number} */ count) {
    this._badge.hidden = count === 0;
    this._badge.textContent = count > 99 ? "99+" : String(count);
    this._bell.setAttribute("aria-label", count ? `Notifications (${count} unread)` : "Notifications");
    if (count !== this._lastUnread) {
      this._lastUnread = count;
      this._emit("belfry-unread-change", { unreadCount: count });
    }
  }

  /** @param {import("./store.js").InboxState} state */
  _renderCategories(state) {
    const wanted = state.categories.map((c) => c.key).join("\n");
    if (this._select.dataset.keys !== wanted) {
      this._select.dataset.keys = wanted;
      const options = state.categories.map((c) => new Option(c.label, c.key));
      this._select.replaceChildren(new Option("All categories", ""), ...options);
    }
    this._select.value = state.category ?? "";
  }

  /** @param {import("./store.js").Notification} n */
  _renderItem(n) {
    const li = document.createElement("li");
    li.dataset.id = n.id;
    li.className = n.isRead ? "read" : "unread";
    li.setAttribute("part", "item");
    const text = document.createElement("div");
    text.className = "text";
    const href = safeLink(n.link); // an unsafe link leaves the title as text
    const title = document.createElement(href ? "a" : "div");
    title.className = "title";
    title.textContent = n.title;
    if (href) title.setAttribute("href", href);
    text.append(title);
    if (n.body) text.append(Object.assign(document.createElement("p"), { className: "body", textContent: n.body }));
    const meta = Object.assign(document.createElement("div"), { className: "meta" });
    meta.textContent = [n.category, n.team && `via ${n.team.name}`, timeAgo(n.createdAt)].filter(Boolean).join(" · ");
    text.append(meta);
    const actions = Object.assign(document.createElement("div"), { className: "actions" });
    actions.append(
      this._button(n.isRead ? "unread" : "read", n.isRead ? "Mark unread" : "Mark read"),
      this._button("delete", "Delete"),
    );
    li.append(text, actions);
    return li;
  }

  _button(/** @type {string} */ action, /** @type {string} */ label) {
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
    button.dataset.action = action;
    button.className = action;
    return button;
  }
}

/** Registers <belfry-inbox> (once; a second bundle on the page is harmless). */
export function defineBelfryInbox(name = "belfry-inbox") {
  if (globalThis.customElements && !customElements.get(name)) customElements.define(name, BelfryInboxElement);
}
