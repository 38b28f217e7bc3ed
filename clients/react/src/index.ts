// Belfry for React 19: a provider holding one connection and the live inbox store, hooks
// reading them, and <Inbox/> over the <belfry-inbox> element.
export { Inbox, type InboxProps, type InboxTab } from "./inbox.js";
export {
  useInbox,
  useNotificationEvents,
  useUnreadCount,
  useUnseenCount,
  type Arrival,
  type InboxActions,
  type InboxView,
  type UseInbox,
} from "./hooks.js";
export {
  BelfryProvider,
  useBelfry,
  type Belfry,
  type BelfryConnection,
  type BelfryProviderProps,
} from "./provider.js";
