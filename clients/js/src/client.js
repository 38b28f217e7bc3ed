// One websocket to Belfry (graphql-transport-ws through graphql-ws) that carries subscriptions,
// queries and mutations alike: one connection and one sign-in for everything a page does.
//
// Tokens: the client asks its token source for a token when it connects, and again shortly
// before that token expires; it then restarts the socket with the new one, so the server never
// has to close it for expiry. If the server closes it anyway (4401: token expired, user erased)
// or refuses a token at sign-in (4403), the client fetches a fresh token and reconnects, until
// `maxAuthRetries` fresh tokens in a row have been refused: then it stops ("unauthorized").
// Cookie mode (`credentials: "include"`, no token): a page whose user is signed in to Belfry
// by the session cookie sends no token at all; the browser sends the cookie with the
// websocket's handshake, from a page on an allowed origin. A refused cookie is tried again
// the same bounded number of times, as the host may renew it meanwhile.
// graphql-ws re-sends every active subscription after a reconnect; Belfry's inbox
// subscription then starts with a SYNC event, from which a store catches up.
import { createClient } from "graphql-ws";
import { refreshMargin, tokenExpiry } from "./token.js";

/** Closed by Belfry when the credential is gone (expired, erased, revoked). */
export const UNAUTHORIZED = 4401;
/** Closed by the server when connection_init's token is refused. */
export const FORBIDDEN = 4403;
/** Closed by this client to reconnect with a new token (graphql-ws's restart recipe). */
export const TOKEN_REFRESH = 4205;

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
  constructor(message, errors = [], code) {
    super(message);
    this.name = "BelfryError";
    this.errors = errors;
    this.code = code;
  }
}

/** The token source failed (its endpoint is down, say): retried with back-off, like the network. */
export class TokenUnavailableError extends Error {
  /** @param {unknown} cause */
  constructor(cause) {
    super(`No token: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "TokenUnavailableError";
    this.cause = cause;
  }
}

/**
 * The websocket address for a GraphQL endpoint given as http(s), ws(s) or a path.
 * @param {string | undefined} url
 */
export function websocketUrl(url) {
  const base = globalThis.location?.href;
  const absolute = new URL(url || "/graphql", base);
  if (absolute.protocol === "http:") absolute.protocol = "ws:";
  if (absolute.protocol === "https:") absolute.protocol = "wss:";
  return absolute.toString();
}

/** @param {unknown} value @returns {value is {code: number, reason: string}} */
function isClose(value) {
  return typeof value === "object" && value !== null && "code" in value && "reason" in value;
}

/** Exponential back-off with jitter, capped at 10 s: a restarting server is not stampeded. */
function backoff(attempt) {
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Keeps the current token and knows when it needs replacing.
 * @param {import("./token.js").TokenSource} source
 */
function tokenKeeper(source) {
  /** @type {{token: string, expiresAt: number | null, fetchedAt: number} | null} */
  let held = null;
  let stale = true;
  return {
    /** The held token, or a fresh one when it is stale or about to expire. */
    async get() {
      const nowSeconds = Date.now() / 1000;
      if (!held || stale || (held.expiresAt !== null && held.expiresAt - nowSeconds < 1)) {
        await this.fetch();
      }
      return /** @type {NonNullable<typeof held>} */ (held).token;
    },
    async fetch() {
      let token;
      try {
        token = await source();
      } catch (error) {
        throw new TokenUnavailableError(error);
      }
      if (typeof token !== "string" || !token) throw new TokenUnavailableError("the source gave none");
      held = { token, expiresAt: tokenExpiry(token), fetchedAt: Date.now() / 1000 };
      stale = false;
      return held;
    },
    /** The server refused the held token: the next connection fetches another. */
    refuse() {
      stale = true;
    },
    /** Milliseconds until the held token should be replaced, or null if never. */
    renewIn() {
      if (!held || held.expiresAt === null) return null;
      const lifetime = held.expiresAt - held.fetchedAt;
      const at = held.expiresAt - refreshMargin(lifetime);
      return Math.max(0, (at - Date.now() / 1000) * 1000);
    },
    current() {
      return held?.token ?? null;
    },
  };
}

/**
 * @param {ClientOptions} options
 */
export function createBelfryClient(options = {}) {
  const { token, getToken, credentials = "omit", maxAuthRetries = 3, refreshBeforeExpiry = true } = options;
  const cookieMode = !token && !getToken && credentials === "include";
  if (!token && !getToken && !cookieMode) {
    throw new Error('Give createBelfryClient a token, a getToken function or credentials: "include"');
  }
  const tokens = cookieMode ? null : tokenKeeper(getToken ?? (() => /** @type {string} */ (token)));
  /** @type {Set<(status: ConnectionStatus, detail?: any) => void>} */
  const statusListeners = new Set();
  let status = /** @type {ConnectionStatus} */ ("connecting");
  let refusals = 0; // auth closes since the last accepted connection
  let restarting = false; // the next reconnect is ours (a token refresh): no back-off
  /** @type {any} */
  let activeSocket = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let renewal;

  /** @param {ConnectionStatus} next @param {any} [detail] */
  function setStatus(next, detail) {
    status = next;
    for (const listener of statusListeners) listener(next, detail);
  }

  const ws = createClient({
    url: websocketUrl(options.url),
    webSocketImpl: options.webSocketImpl,
    lazy: true,
    retryAttempts: Infinity,
    lazyCloseTimeout: 3000, // requests in a row share one socket
    // Auth closes are handled below (fresh token, bounded); everything else is retried: a
    // close, a token source that failed, and a socket that could not connect, which a
    // browser reports as a plain error event.
    shouldRetry: (event) => !isClose(event) || event.code !== FORBIDDEN,
    retryWait: async (retries) => {
      if (restarting) {
        restarting = false;
        return;
      }
      await sleep(backoff(retries));
    },
    // On the cookie the sign-in says nothing: the server reads the handshake's cookie.
    connectionParams: async () => (tokens ? { authorization: `Bearer ${await tokens.get()}` } : {}),
    on: {
      connected: (socket) => {
        activeSocket = socket;
        refusals = 0;
        setStatus("connected");
        scheduleRenewal();
      },
      closed: (event) => {
        activeSocket = null;
        clearTimeout(renewal);
        if (isClose(event) && (event.code === UNAUTHORIZED || event.code === FORBIDDEN)) {
          tokens?.refuse();
          refusals += 1;
          if (refusals > maxAuthRetries) return setStatus("unauthorized", event);
        }
        if (status === "closed" || status === "unauthorized") return;
        // 1000: graphql-ws closed the socket because no operation needs it any more.
        setStatus(isClose(event) && event.code === 1000 ? "idle" : "reconnecting", event);
      },
    },
  });

  function scheduleRenewal() {
    clearTimeout(renewal);
    const delay = refreshBeforeExpiry && tokens ? tokens.renewIn() : null;
    if (delay !== null) renewal = setTimeout(renew, delay);
  }

  /** Fetches the next token first, then restarts the socket with it. */
  async function renew() {
    if (!tokens) return;
    const socket = activeSocket;
    const previous = tokens.current();
    try {
      await tokens.fetch();
    } catch {
      return; // the server closes the socket at expiry, and the 4401 makes the client try again
    }
    if (tokens.current() === previous) return; // a fixed token: nothing to renew with
    if (socket && socket === activeSocket && socket.readyState === 1) {
      restarting = true;
      socket.close(TOKEN_REFRESH, "token refresh");
    }
  }

  /** Whether an operation that failed with `error` should be tried again with a fresh token. */
  function retriesAuth(error) {
    return isClose(error) && [UNAUTHORIZED, FORBIDDEN].includes(error.code) && refusals <= maxAuthRetries;
  }

  /**
   * Runs an operation; `sink.next` gets each result. Survives reconnects and auth closes.
   * @param {{query: string, variables?: Record<string, any>}} payload
   * @param {{next: (value: any) => void, error?: (error: any) => void, complete?: () => void}} sink
   * @returns {() => void} stops the operation
   */
  function subscribe(payload, sink) {
    let stopped = false;
    /** @type {() => void} */
    let dispose = () => {};
    const start = () => {
      if (stopped) return;
      dispose = ws.subscribe(payload, {
        next: (value) => sink.next(value),
        complete: () => sink.complete?.(),
        error: (error) => {
          if (stopped) return;
          if (retriesAuth(error)) {
            sleep(backoff(refusals - 1)).then(start);
            return;
          }
          sink.error?.(toError(error));
        },
      });
    };
    start();
    return () => {
      stopped = true;
      dispose();
    };
  }

  /**
   * A query or mutation over the socket; resolves with its data, rejects with a BelfryError.
   * @param {string} query
   * @param {Record<string, any>} [variables]
   */
  function request(query, variables = {}) {
    return new Promise((resolve, reject) => {
      /** @type {any} */
      let result;
      subscribe(
        { query, variables },
        {
          next: (value) => (result = value),
          error: reject,
          complete: () => {
            if (result?.errors?.length) {
              reject(new BelfryError(result.errors[0].message, result.errors));
            } else resolve(result?.data);
          },
        },
      );
    });
  }

  return {
    subscribe,
    request,
    /** @returns {ConnectionStatus} */
    get status() {
      return status;
    },
    /**
     * Called with each status change ("connected", "reconnecting", "unauthorized", ...).
     * @param {(status: ConnectionStatus, detail?: any) => void} listener
     */
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    /** Closes the socket and stops every operation. */
    async dispose() {
      clearTimeout(renewal);
      setStatus("closed");
      // A socket still connecting may fail while it is let go: that is the end wanted, and
      // no caller should have to catch it.
      await Promise.resolve(ws.dispose()).catch(() => {});
    },
  };
}

/** @param {any} error */
function toError(error) {
  if (error instanceof Error) return error;
  if (Array.isArray(error)) return new BelfryError(error[0]?.message ?? "GraphQL error", error);
  if (isClose(error)) return new BelfryError(error.reason || `Socket closed (${error.code})`, [], error.code);
  return new BelfryError(String(error));
}
