export { Inbox, type InboxProps, type InboxTab } from "./inbox.js";
export { useInbox, useNotificationEvents, useUnreadCount, useUnseenCount, type Arrival, type InboxActions, type InboxView, type UseInbox, } from "./hooks.js";
export { BelfryProvider, useBelfry, type Belfry, type BelfryConnection, type BelfryProviderProps, } from "./provider.js";
