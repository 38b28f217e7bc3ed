// Belfry's browser client: the connection (createBelfryClient), the live inbox store
// (createInboxStore) and the <belfry-inbox> element, registered on import where there is a DOM.
import { defineBelfryInbox } from "./inbox-element.js";

export { BelfryError, TokenUnavailableError, createBelfryClient, websocketUrl } from "./client.js";
export { BelfryInboxElement, defineBelfryInbox } from "./inbox-element.js";
export { safeLink } from "./links.js";
export { createInboxStore } from "./store.js";
export { tokenExpiry, tokenFromEndpoint } from "./token.js";

defineBelfryInbox();
