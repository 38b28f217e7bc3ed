// <Inbox/>: the <belfry-inbox> element in React. Props become the element's attributes and
// properties, its events become callbacks. Inside a BelfryProvider it signs in as the
// provider does unless given its own connection props.
import "@belfry/client"; // defines <belfry-inbox>
import type { BelfryInboxElement, ConnectionStatus, Notification } from "@belfry/client";
import { createElement, useEffect, useLayoutEffect, useRef, type CSSProperties } from "react";
import { useBelfryConnection, type BelfryConnection } from "./provider.js";

/** A tab of the inbox: the notifications with any of these tags. */
export interface InboxTab {
  label: string;
  tags: string[];
}

export interface InboxProps extends BelfryConnection {
  /** Notifications per page, 1-200 (default 20). */
  pageSize?: number;
  /** What the bell's badge counts: "unseen" (default) or "unread". */
  badge?: "unseen" | "unread";
  /** Tabs after "All", each showing the notifications with any of its tags. */
  tabs?: InboxTab[];
  /** "light", "dark", or "auto" (the default: follows prefers-color-scheme). */
  theme?: "light" | "dark" | "auto";
  /** The language of the inbox's strings (default: the user's locale, then the browser's). */
  locale?: string;
  /** Any of the inbox's strings, by their message keys. */
  messages?: BelfryInboxElement["messages"];
  /** Desktop notifications while the tab is hidden, asked for on a user's click. */
  desktopNotifications?: boolean;
  /** Your own rendering of an item's content, in place of the element's. */
  renderItem?: BelfryInboxElement["renderItem"];
  /** Opens or closes the popover. */
  open?: boolean;
  /** A notification arrived: show a toast, play a sound (not when `quiet`: in quiet hours). */
  onNotification?: (notification: Notification, arrival: { quiet: boolean }) => void;
  /** The unread or unseen total changed. */
  onUnreadChange?: (unreadCount: number, unseenCount: number) => void;
  /** The connection's status changed; a problem (refused origin, unauthorized, ...) is in `event.detail`. */
  onStatus?: (status: ConnectionStatus, event: CustomEvent) => void;
  /** A notification's link was clicked; preventDefault() keeps the page from following it. */
  onNotificationClick?: (notification: Notification, event: CustomEvent) => void;
  /** An action button was clicked (and recorded); preventDefault() keeps the page from following its url. */
  onAction?: (notification: Notification, action: Notification["actions"][number], event: CustomEvent) => void;
  id?: string;
  className?: string;
  style?: CSSProperties;
}

type Callbacks = Pick<InboxProps, "onNotification" | "onUnreadChange" | "onStatus" | "onNotificationClick" | "onAction">;

/** Each of the element's events, and the callback it calls with what its detail holds. */
const EVENTS: [string, (callbacks: Callbacks, event: CustomEvent) => void][] = [
  ["belfry-notification", (c, e) => c.onNotification?.(e.detail.notification, { quiet: Boolean(e.detail.quiet) })],
  ["belfry-unread-change", (c, e) => c.onUnreadChange?.(e.detail.unreadCount, e.detail.unseenCount)],
  ["belfry-status", (c, e) => c.onStatus?.(e.detail.status, e)],
  ["belfry-notification-click", (c, e) => c.onNotificationClick?.(e.detail.notification, e)],
  ["belfry-action", (c, e) => c.onAction?.(e.detail.notification, e.detail.action, e)],
];

export function Inbox(props: InboxProps) {
  const ref = useRef<BelfryInboxElement>(null);
  const inherited = useBelfryConnection();
  const ownConnection = props.url || props.token || props.tokenUrl || props.getToken || props.credentials;
  const connection: BelfryConnection = (ownConnection ? props : inherited) ?? {};
  const attributes: Record<string, string | undefined> = {
    url: connection.url,
    token: connection.token,
    "token-url": connection.getToken ? undefined : connection.tokenUrl,
    credentials: connection.credentials,
    "page-size": props.pageSize?.toString(),
    badge: props.badge,
    tabs: props.tabs && JSON.stringify(props.tabs),
    theme: props.theme,
    locale: props.locale,
    "desktop-notifications": props.desktopNotifications ? "" : undefined,
  };

  // Attributes and properties are set before the element's first start (a microtask after it
  // is connected), so it connects once, with all of them.
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined) element.removeAttribute(name);
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
    if (props.messages !== undefined) element.messages = props.messages;
    if (props.renderItem !== undefined) element.renderItem = props.renderItem;
  }, [props.messages, props.renderItem]);
  useLayoutEffect(() => {
    if (ref.current && props.open !== undefined) ref.current.open = props.open;
  }, [props.open]);

  const callbacks = useRef<Callbacks>(props);
  useEffect(() => {
    callbacks.current = props;
  });
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const listeners = EVENTS.map(([type, call]) => {
      const listener = (event: Event) => call(callbacks.current, event as CustomEvent);
      element.addEventListener(type, listener);
      return () => element.removeEventListener(type, listener);
    });
    return () => listeners.forEach((remove) => remove());
  }, []);

  return createElement("belfry-inbox", { ref, id: props.id, class: props.className, style: props.style });
}
