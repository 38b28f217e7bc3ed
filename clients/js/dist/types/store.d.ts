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
/** The GraphQL error code of a failure (`extensions.code`), if it has one. */
export function errorCode(error: any): any;
/** Seconds the server asked to wait before trying again (RATE_LIMITED), if it did. */
export function retryAfterSeconds(error: any): number | null;
/**
 * @param {ReturnType<typeof import("./client.js").createBelfryClient>} client
 * @param {{pageSize?: number, category?: string | null, view?: View, tags?: string[] | null}} [options]
 */
export function createInboxStore(client: ReturnType<typeof import("./client.js").createBelfryClient>, options?: {
    pageSize?: number;
    category?: string | null;
    view?: View;
    tags?: string[] | null;
}): {
    /** @returns {InboxState} */
    readonly state: InboxState;
    /**
     * Calls `listener` with the state now and after every change; returns the unsubscribe.
     * @param {(state: InboxState) => void} listener
     */
    subscribe(listener: (state: InboxState) => void): () => boolean;
    /**
     * Calls `listener` with each notification that arrives live (a new one, or a new occurrence
     * collapsed into one), whichever view is shown; returns the unsubscribe.
     * @param {(notification: Notification, event: InboxEvent) => void} listener
     */
    onNotification(listener: (notification: Notification, event: InboxEvent) => void): () => boolean;
    /** Starts following the inbox (the subscription's first SYNC loads the first page). */
    start(): void;
    stop(): void;
    /** Loads the next page of the view, if there is one. */
    loadMore(): Promise<void>;
    /** Shows one category only (null: all) from its first page. */
    setCategory(category: string | null): Promise<void>;
    /** Shows the inbox, the archive or the snoozed notifications, from the first page. */
    setView(view: View): Promise<void>;
    /** Shows those with any of `tags` (null or []: all), from the first page. */
    setTags(tags: string[] | null): Promise<void>;
    /** @param {string} id */
    markRead: (id: string) => Promise<Notification>;
    /** @param {string} id */
    markUnread: (id: string) => Promise<Notification>;
    setRead: (id: string, read: boolean) => Promise<Notification>;
    /** Marks everything read, or only the current category when one is chosen. */
    markAllRead(): Promise<any>;
    /**
     * Marks notifications seen (what the badge counts by default): these ids, or every unseen
     * one shown. Resolves with how many were marked.
     * @param {string[]} [ids]
     */
    markSeen(ids?: string[]): Promise<number>;
    /** Into the archive (out of the inbox and its badges). @param {string} id */
    archive: (id: string) => Promise<Notification>;
    /** Back into the inbox. @param {string} id */
    unarchive: (id: string) => Promise<Notification>;
    /**
     * Out of the inbox until `until` (a Date or an ISO string, 1 minute to 90 days ahead).
     * @param {string} id @param {Date | string} until
     */
    snooze(id: string, until: Date | string): Promise<Notification>;
    /** Back in the inbox now. @param {string} id */
    unsnooze: (id: string) => Promise<Notification>;
    /**
     * Records that the user took one of the notification's actions (which marks it read);
     * resolves with that action, whose `url` the caller may follow (through safeLink).
     * @param {string} id @param {string} actionId
     * @returns {Promise<NotificationAction | null>}
     */
    act(id: string, actionId: string): Promise<NotificationAction | null>;
    /** @param {string} id */
    delete(id: string): Promise<any>;
};
export const NOTIFICATION_FIELDS: string;
/** What the store can show: the inbox, the archive, or what is snoozed. */
export const VIEWS: readonly ["inbox", "archive", "snoozed"];
export type Priority = "LOW" | "NORMAL" | "HIGH" | "URGENT";
export type View = "inbox" | "archive" | "snoozed";
export type NotificationAction = {
    id: string;
    label: string;
    url: string | null;
    primary: boolean;
};
export type Notification = {
    id: string;
    category: string;
    title: string;
    body: string | null;
    link: string | null;
    data: any;
    priority: Priority;
    tags: string[];
    actions: NotificationAction[];
    isRead: boolean;
    readAt: string | null;
    isSeen: boolean;
    seenAt: string | null;
    isArchived: boolean;
    archivedAt: string | null;
    snoozedUntil: string | null;
    /**
     * when one of its actions was taken
     */
    interactedAt: string | null;
    expiresAt: string | null;
    /**
     * publishes collapsed into it
     */
    occurrences: number;
    /**
     * its latest occurrence's time
     */
    createdAt: string;
    /**
     * the team it came through; null when named
     */
    team: {
        key: string;
        name: string;
    } | null;
};
export type InboxState = {
    /**
     * loaded notifications of the view and filters, newest first
     */
    items: Notification[];
    /**
     * the user's unread total in the inbox (every category)
     */
    unreadCount: number;
    /**
     * the user's unseen total in the inbox (every category)
     */
    unseenCount: number;
    /**
     * more pages to load
     */
    hasMore: boolean;
    /**
     * a page is being fetched
     */
    loading: boolean;
    /**
     * the first page has been loaded
     */
    synced: boolean;
    /**
     * the inbox, the archive or the snoozed ones
     */
    view: View;
    /**
     * the filter, or null for all
     */
    category: string | null;
    /**
     * shows those with any of these tags, or null for all
     */
    tags: string[] | null;
    /**
     * what the filter offers
     */
    categories: {
        key: string;
        label: string;
    }[];
    /**
     * the client's connection
     */
    status: import("./client.js").ConnectionStatus;
    /**
     * the last failure, if any
     */
    error: Error | null;
};
export type InboxEvent = {
    kind: "SYNC" | "CREATED" | "UPDATED" | "DELETED" | "ARCHIVED" | "UNARCHIVED" | "SNOOZED" | "RESURFACED" | "EXPIRED";
    /**
     * what a subscription resumes after
     */
    cursor: string;
    unreadCount: number;
    unseenCount: number;
    notification: Notification | null;
    notificationIds: string[];
    all: boolean;
    category: string | null;
    /**
     * arrived inside the user's quiet hours: show it without a sound
     */
    quiet: boolean;
};
