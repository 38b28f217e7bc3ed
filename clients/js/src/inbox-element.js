// <belfry-inbox>: a bell with the live badge and a popover with the inbox, its archive and its
// snoozed notifications, tabs by tags, each notification's buttons and a preferences panel, built
// on the client and store alone (no framework), in a shadow root so page styles do not leak in.
//
//   <belfry-inbox url="https://belfry.example.com/graphql" token-url="/belfry-token"></belfry-inbox>
//
// The README lists its attributes, properties, events, parts and custom properties.
import { announcer, focusKey, focusables, restoreFocus, trapFocus } from "./a11y.js";
import { createBelfryClient } from "./client.js";
import { button, el, itemNode } from "./items.js";
import { safeLink } from "./links.js";
import { translator } from "./messages.js";
import { createPreferences } from "./preferences.js";
import { placePopover, parseTabs, renderCategories, renderTabs } from "./popover.js";
import { preferencesPanel } from "./preferences-panel.js";
import { describe, httpUrl, probe, rateLimited } from "./problems.js";
import { VIEWS, createInboxStore } from "./store.js";
import { STYLES } from "./styles.js";
import { knownTimeZone, snoozePresets } from "./times.js";
import { TokenRefusedError, tokenFromEndpoint } from "./token.js";

const BELL = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/></svg>`;

const TEMPLATE = `<style>${STYLES}</style>
<button class="bell" part="bell" type="button" aria-haspopup="dialog" aria-expanded="false">
  ${BELL}<span class="badge" part="badge" aria-hidden="true" hidden></span>
</button>
<div class="sr-only" aria-live="polite"></div>
<div class="sr-only" aria-live="assertive"></div>
<section class="popover" part="popover" role="dialog" aria-modal="true" aria-labelledby="belfry-title" hidden>
  <header part="header">
    <div class="top">
      <h2 id="belfry-title"></h2>
      <button class="link-button prefs-toggle" type="button" aria-pressed="false"></button>
      <button class="link-button mark-all" type="button"></button>
    </div>
    <div class="filters">
      <div class="views" role="group"></div>
      <select class="category"></select>
    </div>
    <div class="tabs" role="tablist" hidden></div>
    <button class="chip-button desktop" type="button" hidden></button>
  </header>
  <div class="scroller" id="belfry-panel" part="list">
    <div class="state" part="state" hidden></div>
    <ol class="list"></ol>
    <p class="note" part="note" hidden></p>
    <div class="prefs" hidden></div>
  </div>
</section>`;

/** How close to the end of the list (px) the next page starts loading. */
const LOAD_AHEAD = 120;
/** The channels the preferences panel shows unless `preference-channels` says otherwise. */
const PERSONAL_CHANNELS = ["IN_APP", "EMAIL", "SMS"];
/** The longest wait (s) between tries while the server refuses this page's origin. */
const MAX_RETRY_SECONDS = 300;

// Node (the client's tests, server-side rendering) has no HTMLElement: define nothing there.
const Base = /** @type {typeof HTMLElement} */ (globalThis.HTMLElement ?? class {});

/**
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {import("./store.js").InboxState} InboxState
 * @typedef {import("./problems.js").Problem} Problem
 * @typedef {(notification: Notification) => Node | string | null | undefined} RenderItem
 */

export class BelfryInboxElement extends Base {
  static observedAttributes = ["url", "token", "token-url", "page-size", "badge", "locale", "tabs", "desktop-notifications", "preference-channels", "credentials"];

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
    /** @type {(() => void)[]} */
    this._unfollow = [];
    this._lastCount = -1;
    this._restarting = false;
    /** @type {import("./messages.js").Messages} */
    this._messages = {};
    /** @type {RenderItem | null} */
    this._renderItem = null;
    /** @type {{locale: string | null, timezone: string | null}} */
    this._viewer = { locale: null, timezone: null };
    /** @type {{url?: string, error?: any, status?: number} | null} what the problem was described from */
    this._problemDetail = null;
    this._seeing = false; // a markSeen is in flight
    this.t = translator(this._locale());
    /** @type {string} the element's status, as belfry-status tells it */
    this.status = "connecting";
    /** @type {Problem | null} */
    this.problem = null;
    this._retries = 0; // tries in a row while the origin is refused, for the back-off
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this._retry = undefined;
    this._probing = false;
    /** @type {Set<string>} notifications whose snooze presets are open */
    this._snoozing = new Set();
    this._tab = 0;
    /** @type {import("./preferences.js").Preferences | null} */
    this._prefs = null;
    this._prefsOpen = false;

    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = TEMPLATE;
    const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (root.querySelector(selector));
    this._bell = $(".bell");
    this._badge = $(".badge");
    this._popover = $(".popover");
    this._heading = $("h2");
    this._prefsToggle = $(".prefs-toggle");
    this._markAll = $(".mark-all");
    this._views = $(".views");
    this._select = /** @type {HTMLSelectElement} */ ($(".category"));
    this._tabs = $(".tabs");
    this._desktop = $(".desktop");
    this._scroller = $(".scroller");
    this._state = $(".state");
    this._list = $(".list");
    this._note = $(".note");
    this._prefsBox = $(".prefs");
    const [polite, assertive] = /** @type {HTMLElement[]} */ ([...root.querySelectorAll("[aria-live]")]);
    this._say = announcer(polite, assertive);
    for (const view of VIEWS) {
      const b = button("", "view", "", view);
      b.setAttribute("aria-pressed", String(view === "inbox"));
      this._views.append(b);
    }
    this._bindUi();
    this._applyTexts();
    // A framework may have set a property before this element was defined: as an own property,
    // which would hide the setter below. Take it over.
    for (const name of ["getToken", "messages", "renderItem"]) {
      if (Object.prototype.hasOwnProperty.call(this, name)) {
        const value = /** @type {any} */ (this)[name];
        delete (/** @type {any} */ (this)[name]);
        /** @type {any} */ (this)[name] = value;
      }
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

  /** Strings to show instead of the bundle's, by key (see the README). */
  get messages() {
    return this._messages;
  }

  set messages(overrides) {
    this._messages = overrides ?? {};
    this._relocalize();
  }

  /** A host's own rendering of a notification's content: it returns a Node (or text). */
  get renderItem() {
    return this._renderItem;
  }

  set renderItem(render) {
    this._renderItem = typeof render === "function" ? render : null;
    this._rerender();
  }

  get open() {
    return !this._popover.hidden;
  }

  set open(value) {
    const opening = Boolean(value) && !this.open;
    const closing = !value && this.open;
    this._popover.hidden = !value;
    this._bell.setAttribute("aria-expanded", String(Boolean(value)));
    if (opening) {
      placePopover(this._popover, this._bell);
      this._rerender();
      (focusables(this._popover)[0] ?? this._popover).focus();
      this._markSeen();
      this._maybeLoadMore();
    }
    if (closing) {
      this._snoozing.clear();
      const root = /** @type {ShadowRoot} */ (this.shadowRoot);
      if (!root.activeElement || this._popover.contains(root.activeElement)) this._bell.focus();
    }
  }

  connectedCallback() {
    this._restart();
    const outside = (/** @type {Event} */ event) => {
      if (this.open && !event.composedPath().includes(this)) this.open = false;
    };
    const replace = () => this.open && placePopover(this._popover, this._bell);
    const visible = () => !document.hidden && this._markSeen();
    document.addEventListener("click", outside);
    addEventListener("resize", replace);
    addEventListener("scroll", replace, true);
    document.addEventListener("visibilitychange", visible);
    this._teardown.push(() => {
      document.removeEventListener("click", outside);
      removeEventListener("resize", replace);
      removeEventListener("scroll", replace, true);
      document.removeEventListener("visibilitychange", visible);
    });
  }

  disconnectedCallback() {
    this._stop();
    for (const undo of this._teardown.splice(0)) undo();
  }

  attributeChangedCallback(/** @type {string} */ name) {
    if (["url", "token", "token-url", "page-size"].includes(name)) this._restart();
    else if (name === "locale") this._relocalize();
    else if (name === "tabs") this._setTab(0);
    else this._rerender();
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
    const source = this._tokenSource();
    const credentials = this.getAttribute("credentials") === "include" ? "include" : undefined;
    if ((!source && !credentials) || this.client) return; // a framework may set getToken after mounting
    const getToken = source && (async () => {
      try {
        return await source();
      } catch (error) {
        const status = /** @type {any} */ (error)?.status;
        if (error instanceof TokenRefusedError || status === 401 || status === 403) {
          this._refused(status);
          // The client is being stopped: its sign-in is left waiting rather than failed and retried.
          return new Promise(() => {});
        }
        queueMicrotask(() => this._setStatus("reconnecting", this._describe("token-unavailable", { error })));
        throw error; // the client tries again with back-off
      }
    });
    const client = createBelfryClient({ url: this.getAttribute("url") ?? undefined, getToken: getToken || undefined, credentials });
    const store = createInboxStore(client, {
      pageSize: Number(this.getAttribute("page-size")) || 20,
      tags: this._tabList()[this._tab - 1]?.tags ?? null,
    });
    this.client = client;
    this.store = store;
    this._unfollow = [
      client.onStatus((status, detail) => this._onStatus(status, detail)),
      store.subscribe((state) => this._render(state)),
      store.onNotification((n, event) => this._arrived(n, event.quiet)),
    ];
    this._setStatus("connecting", null);
    store.start();
    this._loadViewer(client);
  }

  _stop() {
    clearTimeout(this._retry);
    for (const undo of this._unfollow.splice(0)) undo();
    this.store?.stop();
    this.client?.dispose();
    this.client = null;
    this.store = null;
    this._prefs = null;
  }

  /** The viewer's locale (the default for `locale`) and timezone (for the snooze presets). */
  async _loadViewer(/** @type {ReturnType<typeof createBelfryClient>} */ client) {
    try {
      const { viewer } = await client.request("query BelfryViewer { viewer { locale timezone } }");
      this._viewer = viewer;
      this._relocalize();
    } catch {
      // The browser's locale and timezone stand in.
    }
  }

  _locale() {
    return this.getAttribute("locale") || this._viewer.locale || globalThis.navigator?.language || "en";
  }

  _timeZone() {
    return knownTimeZone(this._viewer.timezone) ? /** @type {string} */ (this._viewer.timezone) : undefined;
  }

  _relocalize() {
    this.t = translator(this._locale(), this._messages);
    this._applyTexts();
    if (this.problem) this.problem = describe(this.problem.kind, this.t, this._problemDetail ?? {});
    this._rerender();
  }

  /** The header's fixed texts, in the current language. */
  _applyTexts() {
    const t = this.t;
    this._popover.lang = t.locale;
    this._heading.textContent = t("title");
    this._markAll.textContent = t("markAllRead");
    this._prefsToggle.textContent = t("preferences");
    this._views.setAttribute("aria-label", t("views"));
    const names = { inbox: "inbox", archive: "archiveView", snoozed: "snoozed" };
    for (const b of /** @type {HTMLElement[]} */ ([...this._views.children])) b.textContent = t(names[/** @type {keyof typeof names} */ (b.dataset.arg)]);
    this._select.setAttribute("aria-label", t("category"));
    this._tabs.setAttribute("aria-label", t("tabs"));
    this._desktop.textContent = t("desktop");
  }

  // --- status and problems ------------------------------------------------------------------

  /** @param {string} status @param {Problem | null} problem */
  _setStatus(status, problem) {
    const changed = status !== this.status || problem?.kind !== this.problem?.kind;
    this.status = status;
    this.problem = problem;
    if (changed) {
      const { kind = null, message = null, cause = null } = problem ?? {};
      this._emit("belfry-status", { status, problem: kind, message, cause });
    }
    this._rerender();
  }

  /** @param {import("./client.js").ConnectionStatus} status @param {any} detail */
  _onStatus(status, detail) {
    if (this.status === "unauthorized" || this.status === "refused") return; // stopped on purpose
    if (status === "connected") {
      this._retries = 0;
      const kept = this.problem?.kind === "rate-limited" ? this.problem : null;
      return this._setStatus(status, kept);
    }
    if (status === "unauthorized") return this._setStatus(status, this._describe("unauthorized", { error: detail }));
    if (status === "reconnecting" && !this._probing) this._diagnose();
    this._setStatus(status, this.problem);
  }

  /** @param {import("./problems.js").ProblemKind} kind @param {any} detail */
  _describe(kind, detail) {
    this._problemDetail = { url: httpUrl(this.getAttribute("url")), ...detail };
    return describe(kind, this.t, this._problemDetail);
  }

  /** The socket failed: asks over HTTP whether the server refuses this origin or is out of reach. */
  async _diagnose() {
    this._probing = true;
    const client = this.client;
    try {
      const found = await probe(httpUrl(this.getAttribute("url")));
      if (client !== this.client || !client || client.status === "connected") return;
      if (found === "refused-origin") {
        // Trying again is no use until the server's settings change: stop, and look again later.
        this._stop();
        const wait = Math.min(MAX_RETRY_SECONDS, 5 * 2 ** this._retries++);
        this._retry = setTimeout(() => this._tryAgain(false), wait * 1000);
        this._setStatus("refused", this._describe("refused-origin", {}));
      } else if (found === "unreachable") this._setStatus(client.status, this._describe("unreachable", {}));
    } finally {
      this._probing = false;
    }
  }

  /** The token endpoint refused the user: no reconnecting until they sign in and retry. */
  _refused(/** @type {number | undefined} */ status) {
    queueMicrotask(() => {
      this._stop();
      this._setStatus("unauthorized", this._describe("unauthorized", { status }));
    });
  }

  /** Starts again (the retry button, or the back-off's timer). */
  _tryAgain(byHand = true) {
    if (byHand) this._retries = 0;
    this.status = "connecting";
    this.problem = null;
    this._restart();
  }

  // --- rendering ----------------------------------------------------------------------------

  _rerender() {
    if (this.store) this._render(this.store.state);
    else this._renderProblem();
  }

  /** @param {InboxState} state */
  _render(state) {
    if (rateLimited(state.error)) {
      if (this.problem?.kind !== "rate-limited") this._setStatus(this.status, this._describe("rate-limited", { error: state.error }));
    } else if (this.problem?.kind === "rate-limited" && !state.error) this._setStatus(this.status, null);
    this._renderBadge(state);
    this._renderHeader(state);
    const focus = focusKey(/** @type {ShadowRoot} */ (this.shadowRoot), this._list, this._prefsBox);
    if (this._prefsOpen) this._renderPrefs();
    else this._renderList(state);
    this._renderProblem();
    if (this.open) restoreFocus(/** @type {ShadowRoot} */ (this.shadowRoot), focus, this._list, this._prefsBox, this._popover);
    queueMicrotask(() => this._maybeLoadMore()); // a short first page leaves nothing to scroll
  }

  /** @param {InboxState} state */
  _renderBadge(state) {
    const byUnread = this.getAttribute("badge") === "unread";
    const count = byUnread ? state.unreadCount : state.unseenCount;
    this._badge.hidden = count === 0;
    this._badge.textContent = count > 99 ? `${new Intl.NumberFormat(this.t.locale).format(99)}+` : new Intl.NumberFormat(this.t.locale).format(count);
    this._bell.setAttribute("aria-label", count ? this.t(byUnread ? "bellUnread" : "bellUnseen", { count }) : this.t("bell"));
    if (state.unreadCount !== this._lastCount) {
      this._lastCount = state.unreadCount;
      this._emit("belfry-unread-change", { unreadCount: state.unreadCount, unseenCount: state.unseenCount });
    }
  }

  /** @param {InboxState} state */
  _renderHeader(state) {
    this._prefsToggle.setAttribute("aria-pressed", String(this._prefsOpen));
    this._markAll.hidden = this._prefsOpen || state.view !== "inbox";
    /** @type {HTMLElement} */ (this._views.parentElement).hidden = this._prefsOpen;
    for (const b of /** @type {HTMLElement[]} */ ([...this._views.children])) b.setAttribute("aria-pressed", String(b.dataset.arg === state.view));
    renderCategories(this._select, state.categories, this.t("allCategories"), state.category);
    const tabs = this._tabList();
    this._tabs.hidden = !tabs.length || this._prefsOpen;
    if (tabs.length) renderTabs(this._tabs, [this.t("allTab"), ...tabs.map((tab) => tab.label)], this._tab);
    const desktop = this.hasAttribute("desktop-notifications") && globalThis.Notification?.permission === "default";
    this._desktop.hidden = !desktop || this._prefsOpen;
  }

  _tabList() {
    return parseTabs(this.getAttribute("tabs"));
  }

  /** @param {InboxState} state */
  _renderList(state) {
    this._prefsBox.hidden = true;
    this._list.hidden = false;
    if (this._tabList().length) {
      this._scroller.setAttribute("role", "tabpanel");
      this._scroller.setAttribute("aria-labelledby", `belfry-tab-${this._tab}`);
    } else this._scroller.removeAttribute("role");
    const top = this._scroller.scrollTop;
    const ctx = { t: this.t, view: state.view, timeZone: this._timeZone(), snoozing: this._snoozing };
    this._list.replaceChildren(...state.items.map((n) => itemNode(n, ctx, this._hostContent(n))));
    this._scroller.scrollTop = top;
    const empty = state.synced && !state.loading && state.items.length === 0;
    const waiting = !state.synced || (state.loading && state.items.length === 0);
    const emptyText = this.t(state.view === "inbox" ? "empty" : state.view === "archive" ? "emptyArchive" : "emptySnoozed");
    const other = state.error && !rateLimited(state.error) && !this.problem && state.error instanceof Error ? state.error.message : "";
    this._showNote(this.problem ? "" : other || (empty ? emptyText : waiting ? this.t("loading") : ""));
    this._note.setAttribute("role", "status");
    if (this.open) this._markSeen();
  }

  /** A host's own content for `n` (renderItem), inserted as a node: never parsed as HTML. */
  _hostContent(/** @type {Notification} */ n) {
    if (!this._renderItem) return null;
    try {
      const made = this._renderItem(n);
      if (made === null || made === undefined) return null;
      return made instanceof Node ? made : document.createTextNode(String(made));
    } catch (error) {
      console.error("<belfry-inbox>: renderItem failed", error);
      return null;
    }
  }

  _renderProblem() {
    const problem = this.problem;
    this._state.hidden = !problem;
    if (!problem) return;
    this._state.setAttribute("role", problem.kind === "rate-limited" || problem.kind === "unreachable" ? "status" : "alert");
    this._state.dataset.problem = problem.kind;
    const parts = [el("strong", "", problem.message), el("span", "", problem.cause)];
    if (problem.kind === "refused-origin" || problem.kind === "unauthorized" || problem.kind === "failed") {
      parts.push(button(this.t("retry"), "retry", this.t("retry")));
    }
    this._state.replaceChildren(...parts);
    this._list.hidden = Boolean(this.status === "refused" || this.status === "unauthorized");
    if (this._list.hidden) this._showNote("");
  }

  _showNote(/** @type {string} */ text) {
    if (this._note.textContent !== text) this._note.textContent = text;
    this._note.hidden = !text;
  }

  // --- the preferences panel ------------------------------------------------------------------

  async _togglePrefs() {
    this._prefsOpen = !this._prefsOpen;
    if (this._prefsOpen) await this._loadPrefs();
    this._rerender();
    if (!this._prefsOpen) this._prefsToggle.focus();
  }

  async _loadPrefs() {
    if (!this.client) return;
    try {
      this._prefs = await createPreferences(this.client).load();
    } catch (error) {
      this._prefs = null;
      this._showNote(/** @type {Error} */ (error).message);
    }
  }

  _renderPrefs() {
    this._list.hidden = true;
    this._showNote(this._prefs ? "" : this.t("loading"));
    this._prefsBox.hidden = !this._prefs;
    if (!this._prefs || !this.client) return;
    const prefs = createPreferences(this.client);
    const channels = (this.getAttribute("preference-channels") || PERSONAL_CHANNELS.join(" ")).split(/[\s,]+/).filter(Boolean);
    const after = (/** @type {Promise<unknown>} */ change) =>
      change.then(() => this._loadPrefs()).catch((/** @type {Error} */ error) => this._showNote(error.message)).then(() => this._rerender());
    const panel = preferencesPanel(this._prefs, channels, this.t, {
      set: (category, channel, enabled) => after(prefs.set(category, channel, enabled)),
      reset: (category) => after(prefs.reset(category)),
      quietHours: (input) =>
        prefs
          .setQuietHours(input)
          .then((quietHours) => {
            if (this._prefs) this._prefs = { ...this._prefs, quietHours };
            const status = this._prefsBox.querySelector(".quiet [role=status]");
            if (status) status.textContent = this.t("saved");
          })
          .catch((/** @type {Error} */ error) => this._showNote(error.message)),
    });
    this._prefsBox.replaceChildren(panel);
  }

  // --- what the user does ---------------------------------------------------------------------

  /** @param {string} type @param {any} detail @param {boolean} [cancelable] */
  _emit(type, detail, cancelable = false) {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }));
  }

  _bindUi() {
    this._bell.addEventListener("click", () => (this.open = !this.open));
    /** @type {ShadowRoot} */ (this.shadowRoot).addEventListener("keydown", (event) => {
      if (/** @type {KeyboardEvent} */ (event).key === "Escape" && this.open) {
        event.stopPropagation();
        this.open = false;
        this._bell.focus();
      }
    });
    trapFocus(this._popover, () => /** @type {ShadowRoot} */ (this.shadowRoot).activeElement);
    this._select.addEventListener("change", () => this.store?.setCategory(this._select.value || null));
    this._markAll.addEventListener("click", () => this._act(() => this.store?.markAllRead()));
    this._prefsToggle.addEventListener("click", () => this._togglePrefs());
    this._views.addEventListener("click", (event) => {
      const view = /** @type {HTMLElement} */ (event.target).closest("button")?.dataset.arg;
      this._snoozing.clear();
      if (view) this._act(() => this.store?.setView(/** @type {import("./store.js").View} */ (view)));
    });
    this._tabs.addEventListener("click", (event) => {
      const tab = /** @type {HTMLElement} */ (event.target).closest("button");
      if (tab) this._setTab(Number(tab.dataset.arg));
    });
    this._tabs.addEventListener("keydown", (event) => this._onTabKey(/** @type {KeyboardEvent} */ (event)));
    this._desktop.addEventListener("click", async () => {
      await globalThis.Notification?.requestPermission(); // asked on this click, a user gesture
      this._rerender();
    });
    this._state.addEventListener("click", (event) => {
      if (/** @type {HTMLElement} */ (event.target).closest("[data-action=retry]")) this._tryAgain();
    });
    this._scroller.addEventListener("scroll", () => this._maybeLoadMore(), { passive: true });
    this._list.addEventListener("click", (event) => this._onListClick(event));
  }

  /** Arrow keys, Home and End move between tabs, which show their notifications at once. */
  _onTabKey(/** @type {KeyboardEvent} */ event) {
    const count = this._tabList().length + 1;
    const moves = { ArrowRight: this._tab + 1, ArrowLeft: this._tab - 1 + count, Home: 0, End: count - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this._setTab(moves[/** @type {keyof typeof moves} */ (event.key)] % count);
    /** @type {HTMLElement | undefined} */ (this._tabs.children[this._tab])?.focus();
  }

  _setTab(/** @type {number} */ index) {
    const tabs = this._tabList();
    this._tab = index <= tabs.length ? index : 0;
    this._act(() => this.store?.setTags(tabs[this._tab - 1]?.tags ?? null));
    this._rerender();
  }

  /** One listener for every item's buttons and links (the list is re-rendered often). */
  _onListClick(/** @type {Event} */ event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const item = target.closest("li");
    const store = this.store;
    if (!item || !store) return;
    const id = /** @type {string} */ (item.dataset.id);
    const control = target.closest("button");
    const action = control?.dataset.action;
    const arg = control?.dataset.arg ?? "";
    const calls = {
      read: () => store.markRead(id),
      unread: () => store.markUnread(id),
      archive: () => store.archive(id),
      unarchive: () => store.unarchive(id),
      unsnooze: () => store.unsnooze(id),
      delete: () => store.delete(id),
    };
    if (action && action in calls) return this._act(calls[/** @type {keyof typeof calls} */ (action)]);
    if (action === "snooze-menu") {
      if (!this._snoozing.delete(id)) this._snoozing.add(id);
      return this._rerender();
    }
    if (action === "snooze") {
      const until = snoozePresets(new Date(), this._timeZone())[/** @type {"hour" | "tomorrow" | "week"} */ (arg)];
      this._snoozing.delete(id);
      return this._act(() => store.snooze(id, until));
    }
    if (action === "act") return this._act(() => this._takeAction(id, arg));
    if (target.closest("a")) {
      const notification = store.state.items.find((n) => n.id === id);
      if (!this._emit("belfry-notification-click", { notification }, true)) event.preventDefault();
      if (notification && !notification.isRead) this._act(() => store.markRead(id));
    }
  }

  /** Records the action, then follows its url (when safe) unless the page cancels belfry-action. */
  async _takeAction(/** @type {string} */ id, /** @type {string} */ actionId) {
    const store = /** @type {NonNullable<typeof this.store>} */ (this.store);
    const notification = store.state.items.find((n) => n.id === id);
    const action = await store.act(id, actionId);
    if (!action || !this._emit("belfry-action", { notification, action }, true)) return;
    const url = safeLink(action.url);
    if (url) location.assign(url);
  }

  /** Runs a store action; a failure shows in the popover instead of going unnoticed. */
  _act(/** @type {() => Promise<unknown> | undefined} */ action) {
    Promise.resolve(action()).catch((/** @type {Error} */ error) => this._showNote(error.message ?? String(error)));
  }

  /** What the open popover shows is seen (not while the tab is hidden: nobody sees it then). */
  _markSeen() {
    const store = this.store;
    if (!this.open || this._prefsOpen || !store || document.hidden || this._seeing) return;
    if (!store.state.items.some((n) => !n.isSeen)) return;
    this._seeing = true;
    store
      .markSeen()
      .catch(() => {}) // the badge stays as it is; the next opening tries again
      .finally(() => (this._seeing = false));
  }

  _maybeLoadMore() {
    const s = this._scroller;
    const state = this.store?.state;
    if (!this.open || this._prefsOpen || !state?.hasMore || state.loading) return;
    if (s.scrollHeight - s.scrollTop - s.clientHeight < LOAD_AHEAD) this.store?.loadMore();
  }

  // --- new notifications ------------------------------------------------------------------------

  /** A notification arrived: tell the page, screen readers and, if asked, the desktop. */
  _arrived(/** @type {Notification} */ n, /** @type {boolean} */ quiet) {
    this._emit("belfry-notification", { notification: n, quiet });
    const urgent = n.priority === "URGENT";
    this._say(this.t(urgent ? "urgentNotification" : "newNotification", { title: n.title }), urgent);
    const Desktop = globalThis.Notification;
    if (this.hasAttribute("desktop-notifications") && Desktop?.permission === "granted" && document.hidden && !quiet) {
      const shown = new Desktop(n.title, { body: n.body ?? "", tag: n.id, lang: this.t.locale });
      shown.onclick = () => {
        globalThis.focus();
        this.open = true;
      };
    }
  }
}

/** Registers <belfry-inbox> (once; a second bundle on the page is harmless). */
export function defineBelfryInbox(name = "belfry-inbox") {
  if (globalThis.customElements && !customElements.get(name)) customElements.define(name, BelfryInboxElement);
}
