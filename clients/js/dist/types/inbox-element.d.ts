/** Registers <belfry-inbox> (once; a second bundle on the page is harmless). */
export function defineBelfryInbox(name?: string): void;
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
    _lastUnread: number;
    _restarting: boolean;
    _bell: HTMLElement;
    _badge: HTMLElement;
    _popover: HTMLElement;
    _select: HTMLSelectElement;
    _markAll: HTMLElement;
    _scroller: HTMLElement;
    _list: HTMLElement;
    _note: HTMLElement;
    set getToken(source: import("./token.js").TokenSource | undefined);
    /** A function returning the user token (or a promise of it); set it instead of `token`. */
    get getToken(): import("./token.js").TokenSource | undefined;
    set open(value: boolean);
    get open(): boolean;
    connectedCallback(): void;
    disconnectedCallback(): void;
    attributeChangedCallback(): void;
    /** Starts afresh once the current task's changes are in (a parser sets attributes one by one). */
    _restart(): void;
    /** The token source from the property or the attributes, or null while there is none. */
    _tokenSource(): import("./token.js").TokenSource | null;
    _start(): void;
    _stopStore: (() => void) | undefined;
    _stop(): void;
    /** @param {string} type @param {any} detail @param {boolean} [cancelable] */
    _emit(type: string, detail: any, cancelable?: boolean): boolean;
    _bindUi(): void;
    /** One listener for every item's buttons and links (the list is re-rendered often). */
    _onListClick(event: Event): void;
    /** Runs a store action; a failure shows in the popover instead of going unnoticed. */
    _act(action: () => Promise<unknown> | undefined): void;
    _showNote(text: string): void;
    _maybeLoadMore(): void;
    /** @param {import("./store.js").InboxState} state */
    _render(state: import("./store.js").InboxState): void;
    _renderBadge(count: number): void;
    /** @param {import("./store.js").InboxState} state */
    _renderCategories(state: import("./store.js").InboxState): void;
    /** @param {import("./store.js").Notification} n */
    _renderItem(n: import("./store.js").Notification): HTMLLIElement;
    _button(action: string, label: string): HTMLButtonElement & {
        type: string;
        textContent: string;
    };
}
import { createBelfryClient } from "./client.js";
import { createInboxStore } from "./store.js";
