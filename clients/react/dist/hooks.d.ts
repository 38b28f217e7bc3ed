import type { InboxState, InboxStore, Notification } from "@belfry/client";
export type InboxView = InboxState["view"];
/** The store's actions that useInbox gives: each returns a promise. */
declare const ACTIONS: readonly ["loadMore", "markRead", "markUnread", "markAllRead", "markSeen", "archive", "unarchive", "snooze", "unsnooze", "act", "delete", "setView", "setTags", "setCategory"];
export type InboxActions = Pick<InboxStore, (typeof ACTIONS)[number]>;
/** What useInbox gives: the store's state (the connection's status too) and its actions. */
export interface UseInbox extends InboxState, InboxActions {
}
/** The inbox: its items, counts and paging, and what can be done with them. */
export declare function useInbox(): UseInbox;
/** The user's unread total, live (every category). */
export declare function useUnreadCount(): number;
/** The user's unseen total, live: what a badge counts (opening the inbox marks it seen). */
export declare function useUnseenCount(): number;
/** How a notification arrived. */
export interface Arrival {
    /** It came inside the user's quiet hours: show it, but without a sound. */
    quiet: boolean;
}
/**
 * Calls `callback` with each notification that arrives while the component is mounted (for a
 * toast or a sound): a new one, or a new occurrence collapsed into one ("×3"). The latest
 * callback given is called, so an inline function is fine.
 */
export declare function useNotificationEvents(callback: (notification: Notification, arrival: Arrival) => void): void;
export {};
