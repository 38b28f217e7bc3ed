// Belfry's browser client: the connection (createBelfryClient), the live inbox store
// (createInboxStore), the viewer's preferences (createPreferences) and the <belfry-inbox>
// element, registered on import where there is a DOM.
import { defineBelfryInbox } from "./inbox-element.js";

export { BelfryError, TokenUnavailableError, createBelfryClient, websocketUrl } from "./client.js";
export { BelfryInboxElement, defineBelfryInbox } from "./inbox-element.js";
export { safeLink } from "./links.js";
export { createPreferences } from "./preferences.js";
export { NOTIFICATION_FIELDS, VIEWS, createInboxStore, errorCode, retryAfterSeconds } from "./store.js";
export { TokenRefusedError, tokenExpiry, tokenFromEndpoint } from "./token.js";

defineBelfryInbox();

// The types that an application names (the declarations export them).
/**
 * @typedef {ReturnType<typeof import("./client.js").createBelfryClient>} BelfryClient
 * @typedef {import("./client.js").ClientOptions} ClientOptions
 * @typedef {import("./client.js").ConnectionStatus} ConnectionStatus
 * @typedef {ReturnType<typeof import("./store.js").createInboxStore>} InboxStore
 * @typedef {import("./store.js").InboxState} InboxState
 * @typedef {import("./store.js").InboxEvent} InboxEvent
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {import("./token.js").TokenSource} TokenSource
 */
