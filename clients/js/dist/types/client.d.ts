/**
 * The websocket address for a GraphQL endpoint given as http(s), ws(s) or a path.
 * @param {string | undefined} url
 */
export function websocketUrl(url: string | undefined): string;
/**
 * @param {ClientOptions} options
 */
export function createBelfryClient(options?: ClientOptions): {
    subscribe: (payload: {
        query: string;
        variables?: Record<string, any>;
    }, sink: {
        next: (value: any) => void;
        error?: (error: any) => void;
        complete?: () => void;
    }) => () => void;
    request: (query: string, variables?: Record<string, any>) => Promise<any>;
    /** @returns {ConnectionStatus} */
    readonly status: ConnectionStatus;
    /**
     * Called with each status change ("connected", "reconnecting", "unauthorized", ...).
     * @param {(status: ConnectionStatus, detail?: any) => void} listener
     */
    onStatus(listener: (status: ConnectionStatus, detail?: any) => void): () => boolean;
    /** Closes the socket and stops every operation. */
    dispose(): Promise<void>;
};
/** Closed by Belfry when the credential is gone (expired, erased, revoked). */
export const UNAUTHORIZED: 4401;
/** Closed by the server when connection_init's token is refused. */
export const FORBIDDEN: 4403;
/** Closed by this client to reconnect with a new token (graphql-ws's restart recipe). */
export const TOKEN_REFRESH: 4205;
/**
 * @typedef {"connecting" | "connected" | "reconnecting" | "idle" | "unauthorized" | "closed"} ConnectionStatus
 *
 * @typedef {object} ClientOptions
 * @property {string} [url] GraphQL endpoint, http(s) or ws(s); default: this page's origin + /graphql
 * @property {string} [token] a fixed user token
 * @property {import("./token.js").TokenSource} [getToken] fetches a user token (preferred: tokens get renewed)
 * @property {"include" | "omit"} [credentials] "include" with no token: sign in with Belfry's session
 *   cookie (BELFRY_SESSION_COOKIE), which the browser sends on the websocket's handshake
 * @property {number} [maxAuthRetries] fresh tokens in a row the server may refuse before giving up (default 3)
 * @property {boolean} [refreshBeforeExpiry] renew the token before it expires (default true)
 * @property {any} [webSocketImpl] a WebSocket class where there is no global one (Node: the `ws` package)
 *
 * @typedef {object} GraphQLErrorShape
 * @property {string} message
 * @property {Record<string, any>} [extensions]
 */
/** A GraphQL error answer (or a refused connection), with the server's errors. */
export class BelfryError extends Error {
    /** @param {string} message @param {GraphQLErrorShape[]} [errors] @param {number} [code] */
    constructor(message: string, errors?: GraphQLErrorShape[], code?: number);
    errors: GraphQLErrorShape[];
    code: number | undefined;
}
/** The token source failed (its endpoint is down, say): retried with back-off, like the network. */
export class TokenUnavailableError extends Error {
    /** @param {unknown} cause */
    constructor(cause: unknown);
    cause: unknown;
}
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "idle" | "unauthorized" | "closed";
export type ClientOptions = {
    /**
     * GraphQL endpoint, http(s) or ws(s); default: this page's origin + /graphql
     */
    url?: string | undefined;
    /**
     * a fixed user token
     */
    token?: string | undefined;
    /**
     * fetches a user token (preferred: tokens get renewed)
     */
    getToken?: import("./token.js").TokenSource | undefined;
    /**
     * "include" with no token: sign in with Belfry's session
     * cookie (BELFRY_SESSION_COOKIE), which the browser sends on the websocket's handshake
     */
    credentials?: "include" | "omit" | undefined;
    /**
     * fresh tokens in a row the server may refuse before giving up (default 3)
     */
    maxAuthRetries?: number | undefined;
    /**
     * renew the token before it expires (default true)
     */
    refreshBeforeExpiry?: boolean | undefined;
    /**
     * a WebSocket class where there is no global one (Node: the `ws` package)
     */
    webSocketImpl?: any;
};
export type GraphQLErrorShape = {
    message: string;
    extensions?: Record<string, any> | undefined;
};
