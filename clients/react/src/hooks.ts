// Hooks over the provider's live inbox store: each component re-renders when what it reads
// changes (useSyncExternalStore), and every action goes through the store, whose effects
// arrive as live events in every tab.
import type { InboxState, InboxStore, Notification } from "@belfry/client";
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { useBelfry } from "./provider.js";

export type InboxView = InboxState["view"];

/** The store's actions that useInbox gives: each returns a promise. */
const ACTIONS = [
  "loadMore",
  "markRead",
  "markUnread",
  "markAllRead",
  "markSeen",
  "archive",
  "unarchive",
  "snooze",
  "unsnooze",
  "act",
  "delete",
  "setView",
  "setTags",
  "setCategory",
] as const;
export type InboxActions = Pick<InboxStore, (typeof ACTIONS)[number]>;

/** What useInbox gives: the store's state (the connection's status too) and its actions. */
export interface UseInbox extends InboxState, InboxActions {}

/** The state before the provider has mounted: nothing loaded yet. */
const NOT_YET: InboxState = {
  items: [],
  unreadCount: 0,
  unseenCount: 0,
  hasMore: false,
  loading: true,
  synced: false,
  category: null,
  categories: [],
  view: "inbox",
  tags: null,
  status: "connecting",
  error: null,
} as InboxState;

const notConnected = () => Promise.reject(new Error("Belfry is not connected yet: BelfryProvider has not mounted"));

/** The store's state, or a part of it: the component re-renders when that part changes. */
function useInboxState<T>(select: (state: InboxState) => T): T {
  const belfry = useBelfry();
  const subscribe = useCallback(
    (changed: () => void) => {
      if (!belfry) return () => {};
      const off = belfry.store.subscribe(changed);
      return () => void off();
    },
    [belfry],
  );
  const snapshot = () => select(belfry ? belfry.store.state : NOT_YET);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** The inbox: its items, counts and paging, and what can be done with them. */
export function useInbox(): UseInbox {
  const belfry = useBelfry();
  const state = useInboxState((s) => s);
  const actions = useMemo(() => inboxActions(belfry?.store ?? null), [belfry]);
  return useMemo(() => ({ ...state, ...actions }), [state, actions]);
}

function inboxActions(store: InboxStore | null): InboxActions {
  const bound = ACTIONS.map((name) => [name, store ? (store[name] as (...args: never[]) => unknown).bind(store) : notConnected]);
  return Object.fromEntries(bound) as InboxActions;
}

/** The user's unread total, live (every category). */
export function useUnreadCount(): number {
  return useInboxState((s) => s.unreadCount);
}

/** The user's unseen total, live: what a badge counts (opening the inbox marks it seen). */
export function useUnseenCount(): number {
  return useInboxState((s) => s.unseenCount);
}

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
export function useNotificationEvents(callback: (notification: Notification, arrival: Arrival) => void): void {
  const belfry = useBelfry();
  const latest = useRef(callback);
  useEffect(() => {
    latest.current = callback;
  });
  useEffect(() => {
    if (!belfry) return;
    const off = belfry.store.onNotification((notification, event) => latest.current(notification, { quiet: event.quiet }));
    return () => void off();
  }, [belfry]);
}
