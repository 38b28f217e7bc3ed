/** Registers <belfry-inbox> (once; a second bundle on the page is harmless). */
export function defineBelfryInbox(name?: string): void;
/**
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {import("./store.js").InboxState} InboxState
 * @typedef {import("./problems.js").Problem} Problem
 * @typedef {(notification: Notification) => Node | string | null | undefined} RenderItem
 */
export class BelfryInboxElement extends HTMLElement {
    static observedAttributes: string[];
    /** @type {import("./token.js").TokenSource | undefined} */
    _getToken: import("./token.js").TokenSource | undefined;
    /** @type {ReturnType<typeof createBelfryClient> | null} */
    client: ReturnType<typeof createBelfryClient> | null;
    /** @type {ReturnType<typeof createInboxStore> | null} */
    store: ReturnType<typeof createInboxStore> | null;
    /** @type {(() => void)[]} */
    _teardown: (() => void)[];
    /** @type {(() => void)[]} */
    _unfollow: (() => void)[];
    _lastCount: number;
    _restarting: boolean;
    /** @type {import("./messages.js").Messages} */
    _messages: import("./messages.js").Messages;
    /** @type {RenderItem | null} */
    _renderItem: RenderItem | null;
    /** @type {{locale: string | null, timezone: string | null}} */
    _viewer: {
        locale: string | null;
        timezone: string | null;
    };
    /** @type {{url?: string, error?: any, status?: number} | null} what the problem was described from */
    _problemDetail: {
        url?: string;
        error?: any;
        status?: number;
    } | null;
    _seeing: boolean;
    t: {
        (key: string, params?: Record<string, string | number>): string;
        locale: string;
    };
    /** @type {string} the element's status, as belfry-status tells it */
    status: string;
    /** @type {Problem | null} */
    problem: Problem | null;
    _retries: number;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    _retry: ReturnType<typeof setTimeout> | undefined;
    _probing: boolean;
    /** @type {Set<string>} notifications whose snooze presets are open */
    _snoozing: Set<string>;
    _tab: number;
    /** @type {import("./preferences.js").Preferences | null} */
    _prefs: import("./preferences.js").Preferences | null;
    _prefsOpen: boolean;
    _bell: HTMLElement;
    _badge: HTMLElement;
    _popover: HTMLElement;
    _heading: HTMLElement;
    _prefsToggle: HTMLElement;
    _markAll: HTMLElement;
    _views: HTMLElement;
    _select: HTMLSelectElement;
    _tabs: HTMLElement;
    _desktop: HTMLElement;
    _scroller: HTMLElement;
    _state: HTMLElement;
    _list: HTMLElement;
    _note: HTMLElement;
    _prefsBox: HTMLElement;
    _say: (text: string, urgent?: boolean) => void;
    set getToken(source: import("./token.js").TokenSource | undefined);
    /** A function returning the user token (or a promise of it); set it instead of `token`. */
    get getToken(): import("./token.js").TokenSource | undefined;
    set messages(overrides: import("./messages.js").Messages);
    /** Strings to show instead of the bundle's, by key (see the README). */
    get messages(): import("./messages.js").Messages;
    set renderItem(render: RenderItem | null);
    /** A host's own rendering of a notification's content: it returns a Node (or text). */
    get renderItem(): RenderItem | null;
    set open(value: boolean);
    get open(): boolean;
    connectedCallback(): void;
    disconnectedCallback(): void;
    attributeChangedCallback(name: string): void;
    /** Starts afresh once the current task's changes are in (a parser sets attributes one by one). */
    _restart(): void;
    /** The token source from the property or the attributes, or null while there is none. */
    _tokenSource(): import("./token.js").TokenSource | null;
    _start(): void;
    _stop(): void;
    /** The viewer's locale (the default for `locale`) and timezone (for the snooze presets). */
    _loadViewer(client: ReturnType<typeof createBelfryClient>): Promise<void>;
    _locale(): string;
    _timeZone(): string | undefined;
    _relocalize(): void;
    /** The header's fixed texts, in the current language. */
    _applyTexts(): void;
    /** @param {string} status @param {Problem | null} problem */
    _setStatus(status: string, problem: Problem | null): void;
    /** @param {import("./client.js").ConnectionStatus} status @param {any} detail */
    _onStatus(status: import("./client.js").ConnectionStatus, detail: any): void;
    /** @param {import("./problems.js").ProblemKind} kind @param {any} detail */
    _describe(kind: import("./problems.js").ProblemKind, detail: any): import("./problems.js").Problem;
    /** The socket failed: asks over HTTP whether the server refuses this origin or is out of reach. */
    _diagnose(): Promise<void>;
    /** The token endpoint refused the user: no reconnecting until they sign in and retry. */
    _refused(status: number | undefined): void;
    /** Starts again (the retry button, or the back-off's timer). */
    _tryAgain(byHand?: boolean): void;
    _rerender(): void;
    /** @param {InboxState} state */
    _render(state: InboxState): void;
    /** @param {InboxState} state */
    _renderBadge(state: InboxState): void;
    /** @param {InboxState} state */
    _renderHeader(state: InboxState): void;
    _tabList(): any[];
    /** @param {InboxState} state */
    _renderList(state: InboxState): void;
    /** A host's own content for `n` (renderItem), inserted as a node: never parsed as HTML. */
    _hostContent(n: Notification): Node | null;
    _renderProblem(): void;
    _showNote(text: string): void;
    _togglePrefs(): Promise<void>;
    _loadPrefs(): Promise<void>;
    _renderPrefs(): void;
    /** @param {string} type @param {any} detail @param {boolean} [cancelable] */
    _emit(type: string, detail: any, cancelable?: boolean): boolean;
    _bindUi(): void;
    /** Arrow keys, Home and End move between tabs, which show their notifications at once. */
    _onTabKey(event: KeyboardEvent): void;
    _setTab(index: number): void;
    /** One listener for every item's buttons and links (the list is re-rendered often). */
    _onListClick(event: Event): void;
    /** Records the action, then follows its url (when safe) unless the page cancels belfry-action. */
    _takeAction(id: string, actionId: string): Promise<void>;
    /** Runs a store action; a failure shows in the popover instead of going unnoticed. */
    _act(action: () => Promise<unknown> | undefined): void;
    /** What the open popover shows is seen (not while the tab is hidden: nobody sees it then). */
    _markSeen(): void;
    _maybeLoadMore(): void;
    /** A notification arrived: tell the page, screen readers and, if asked, the desktop. */
    _arrived(n: Notification, quiet: boolean): void;
}
export type Notification = import("./store.js").Notification;
export type InboxState = import("./store.js").InboxState;
export type Problem = import("./problems.js").Problem;
export type RenderItem = (notification: Notification) => Node | string | null | undefined;
import { createBelfryClient } from "./client.js";
import { createInboxStore } from "./store.js";
