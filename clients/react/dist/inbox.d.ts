import "@belfry/client";
import type { BelfryInboxElement, ConnectionStatus, Notification } from "@belfry/client";
import { type CSSProperties } from "react";
import { type BelfryConnection } from "./provider.js";
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
    onNotification?: (notification: Notification, arrival: {
        quiet: boolean;
    }) => void;
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
export declare function Inbox(props: InboxProps): import("react").ReactElement<{
    ref: import("react").RefObject<BelfryInboxElement | null>;
    id: string | undefined;
    class: string | undefined;
    style: CSSProperties | undefined;
}, string | import("react").JSXElementConstructor<any>>;
