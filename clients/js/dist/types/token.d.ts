/**
 * @typedef {() => (string | Promise<string>)} TokenSource
 */
/**
 * Seconds since the epoch at which the token expires, or null when it carries no readable `exp`.
 * @param {string} token
 * @returns {number | null}
 */
export function tokenExpiry(token: string): number | null;
/**
 * A token source that POSTs to the host backend's token endpoint, which answers
 * `{"token": "..."}` for the signed-in user (cookies are sent: `credentials: "include"`). A 401 or
 * 403 rejects with a TokenRefusedError, anything else that fails with a plain Error.
 * @param {string} url
 * @param {typeof fetch} [fetchImpl]
 * @returns {TokenSource}
 */
export function tokenFromEndpoint(url: string, fetchImpl?: typeof fetch): TokenSource;
/**
 * How long before expiry to fetch the next token: a quarter of its life, at most a minute,
 * so short-lived tokens are renewed in time and long-lived ones not needlessly early.
 * @param {number} lifetimeSeconds
 */
export function refreshMargin(lifetimeSeconds: number): number;
/** The token endpoint refused the user (401 or 403): fetching again will not help until they sign in. */
export class TokenRefusedError extends Error {
    /** @param {number} status */
    constructor(status: number);
    status: number;
}
export type TokenSource = () => (string | Promise<string>);
