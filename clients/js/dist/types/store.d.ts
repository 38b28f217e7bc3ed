/**
 * @param {ReturnType<typeof import("./client.js").createBelfryClient>} client
 * @param {{pageSize?: number, category?: string | null}} [options]
 */
export function createInboxStore(client: ReturnType<typeof import("./client.js").createBelfryClient>, options?: {
    pageSize?: number;
    category?: string | null;
}): {
    /** @returns {InboxState} */
    readonly state: InboxState;
    /**
     * Calls `listener` with the state now and after every change; returns the unsubscribe.
     * @param {(state: InboxState) => void} listener
     */
    subscribe(listener: (state: InboxState) => void): () => boolean;
    /** Starts following the inbox (the subscription's first SYNC loads the first page). */
    start(): void;
    stop(): void;
    /** Loads the next page of the current category, if there is one. */
    loadMore(): Promise<void>;
    /** Shows one category only (null: all) from its first page. */
    setCategory(category: string | null): Promise<void>;
    /** @param {string} id */
    markRead: (id: string) => Promise<any>;
    /** @param {string} id */
    markUnread: (id: string) => Promise<any>;
    /** Marks everything read, or only the current category when one is chosen. */
    markAllRead(): Promise<any>;
    /** @param {string} id */
    delete(id: string): Promise<any>;
};
export const NOTIFICATION_FIELDS: "id category title body link data isRead readAt createdAt team { key name }";
export type Notification = {
    id: string;
    category: string;
    title: string;
    body: string | null;
    link: string | null;
    data: any;
    isRead: boolean;
    readAt: string | null;
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
     * loaded notifications in the current category, newest first
     */
    items: Notification[];
    /**
     * the user's unread total (every category)
     */
    unreadCount: number;
    /**
     * more pages to load
     */
    hasMore: boolean;
    /**
     * a page is being fetched
     */
    loading: boolean;
    /**
     * the first SYNC has been applied
     */
    synced: boolean;
    /**
     * the filter, or null for all
     */
    category: string | null;
    /**
     * what the filter offers
     */
    categories: {
        key: string;
        label: string;
    }[];
    /**
     * the last failure, if any
     */
    error: Error | null;
};
export type InboxEvent = {
    kind: "SYNC" | "CREATED" | "UPDATED" | "DELETED";
    /**
     * what a subscription resumes after
     */
    cursor: string;
    unreadCount: number;
    notification: Notification | null;
    notificationIds: string[];
    all: boolean;
    category: string | null;
};
