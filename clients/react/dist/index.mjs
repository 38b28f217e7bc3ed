// src/inbox.tsx
import "@belfry/client";
import { createElement, useEffect as useEffect2, useLayoutEffect, useRef as useRef2 } from "react";

// src/provider.tsx
import {
  createBelfryClient,
  createInboxStore,
  tokenFromEndpoint
} from "@belfry/client";
import { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";
import { jsx } from "react/jsx-runtime";
var BelfryContext = createContext(null);
var ConnectionContext = createContext(null);
function BelfryProvider({ children, pageSize, ...props }) {
  const { url, token, tokenUrl, credentials } = props;
  const latestGetToken = useRef(props.getToken);
  useEffect(() => {
    latestGetToken.current = props.getToken;
  });
  const hasGetToken = props.getToken !== void 0;
  const connection = useMemo(() => {
    const getToken = hasGetToken ? () => latestGetToken.current() : void 0;
    return { url, token, tokenUrl, credentials, getToken };
  }, [url, token, tokenUrl, credentials, hasGetToken]);
  const [belfry, setBelfry] = useState(null);
  useEffect(() => {
    const endpoint = connection.tokenUrl && tokenFromEndpoint(new URL(connection.tokenUrl, location.href).toString());
    const client = createBelfryClient({ ...connection, getToken: connection.getToken ?? (endpoint || void 0) });
    const store = createInboxStore(client, { pageSize });
    const starting = setTimeout(() => store.start());
    setBelfry({ client, store });
    return () => {
      clearTimeout(starting);
      store.stop();
      void client.dispose();
    };
  }, [connection, pageSize]);
  return /* @__PURE__ */ jsx(ConnectionContext.Provider, { value: connection, children: /* @__PURE__ */ jsx(BelfryContext.Provider, { value: belfry, children }) });
}
function useBelfry() {
  return useContext(BelfryContext);
}
function useBelfryConnection() {
  return useContext(ConnectionContext);
}

// src/inbox.tsx
var EVENTS = [
  ["belfry-notification", (c, e) => c.onNotification?.(e.detail.notification, { quiet: Boolean(e.detail.quiet) })],
  ["belfry-unread-change", (c, e) => c.onUnreadChange?.(e.detail.unreadCount, e.detail.unseenCount)],
  ["belfry-status", (c, e) => c.onStatus?.(e.detail.status, e)],
  ["belfry-notification-click", (c, e) => c.onNotificationClick?.(e.detail.notification, e)],
  ["belfry-action", (c, e) => c.onAction?.(e.detail.notification, e.detail.action, e)]
];
function Inbox(props) {
  const ref = useRef2(null);
  const inherited = useBelfryConnection();
  const ownConnection = props.url || props.token || props.tokenUrl || props.getToken || props.credentials;
  const connection = (ownConnection ? props : inherited) ?? {};
  const attributes = {
    url: connection.url,
    token: connection.token,
    "token-url": connection.getToken ? void 0 : connection.tokenUrl,
    credentials: connection.credentials,
    "page-size": props.pageSize?.toString(),
    badge: props.badge,
    tabs: props.tabs && JSON.stringify(props.tabs),
    theme: props.theme,
    locale: props.locale,
    "desktop-notifications": props.desktopNotifications ? "" : void 0
  };
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    for (const [name, value] of Object.entries(attributes)) {
      if (value === void 0) element.removeAttribute(name);
      else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
    }
  });
  const { getToken } = connection;
  useLayoutEffect(() => {
    if (ref.current && ref.current.getToken !== getToken) ref.current.getToken = getToken;
  }, [getToken]);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (props.messages !== void 0) element.messages = props.messages;
    if (props.renderItem !== void 0) element.renderItem = props.renderItem;
  }, [props.messages, props.renderItem]);
  useLayoutEffect(() => {
    if (ref.current && props.open !== void 0) ref.current.open = props.open;
  }, [props.open]);
  const callbacks = useRef2(props);
  useEffect2(() => {
    callbacks.current = props;
  });
  useEffect2(() => {
    const element = ref.current;
    if (!element) return;
    const listeners = EVENTS.map(([type, call]) => {
      const listener = (event) => call(callbacks.current, event);
      element.addEventListener(type, listener);
      return () => element.removeEventListener(type, listener);
    });
    return () => listeners.forEach((remove) => remove());
  }, []);
  return createElement("belfry-inbox", { ref, id: props.id, class: props.className, style: props.style });
}

// src/hooks.ts
import { useCallback, useEffect as useEffect3, useMemo as useMemo2, useRef as useRef3, useSyncExternalStore } from "react";
var ACTIONS = [
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
  "setCategory"
];
var NOT_YET = {
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
  error: null
};
var notConnected = () => Promise.reject(new Error("Belfry is not connected yet: BelfryProvider has not mounted"));
function useInboxState(select) {
  const belfry = useBelfry();
  const subscribe = useCallback(
    (changed) => {
      if (!belfry) return () => {
      };
      const off = belfry.store.subscribe(changed);
      return () => void off();
    },
    [belfry]
  );
  const snapshot = () => select(belfry ? belfry.store.state : NOT_YET);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
function useInbox() {
  const belfry = useBelfry();
  const state = useInboxState((s) => s);
  const actions = useMemo2(() => inboxActions(belfry?.store ?? null), [belfry]);
  return useMemo2(() => ({ ...state, ...actions }), [state, actions]);
}
function inboxActions(store) {
  const bound = ACTIONS.map((name) => [name, store ? store[name].bind(store) : notConnected]);
  return Object.fromEntries(bound);
}
function useUnreadCount() {
  return useInboxState((s) => s.unreadCount);
}
function useUnseenCount() {
  return useInboxState((s) => s.unseenCount);
}
function useNotificationEvents(callback) {
  const belfry = useBelfry();
  const latest = useRef3(callback);
  useEffect3(() => {
    latest.current = callback;
  });
  useEffect3(() => {
    if (!belfry) return;
    const off = belfry.store.onNotification((notification, event) => latest.current(notification, { quiet: event.quiet }));
    return () => void off();
  }, [belfry]);
}
export {
  BelfryProvider,
  Inbox,
  useBelfry,
  useInbox,
  useNotificationEvents,
  useUnreadCount,
  useUnseenCount
};
