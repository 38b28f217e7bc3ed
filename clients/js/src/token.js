// Tokens: where they come from (a fixed string, a callback, or a backend endpoint) and when
// they run out (the JWT's `exp` claim, read without verifying: only the server can verify).

/**
 * @typedef {() => (string | Promise<string>)} TokenSource
 */

/**
 * Seconds since the epoch at which the token expires, or null when it carries no readable `exp`.
 * @param {string} token
 * @returns {number | null}
 */
export function tokenExpiry(token) {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
    return typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}

/** The token endpoint refused the user (401 or 403): fetching again will not help until they sign in. */
export class TokenRefusedError extends Error {
  /** @param {number} status */
  constructor(status) {
    super(`The token endpoint answered ${status}`);
    this.name = "TokenRefusedError";
    this.status = status;
  }
}

/**
 * A token source that POSTs to the host backend's token endpoint, which answers
 * `{"token": "..."}` for the signed-in user (cookies are sent: `credentials: "include"`). A 401 or
 * 403 rejects with a TokenRefusedError, anything else that fails with a plain Error.
 * @param {string} url
 * @param {typeof fetch} [fetchImpl]
 * @returns {TokenSource}
 */
export function tokenFromEndpoint(url, fetchImpl = globalThis.fetch.bind(globalThis)) {
  return async () => {
    const response = await fetchImpl(url, {
      method: "POST",
      credentials: "include",
      headers: { accept: "application/json" },
    });
    if (response.status === 401 || response.status === 403) throw new TokenRefusedError(response.status);
    if (!response.ok) throw new Error(`The token endpoint answered ${response.status}`);
    const body = await response.json();
    if (typeof body?.token !== "string") throw new Error('The token endpoint must answer {"token": "..."}');
    return body.token;
  };
}

/**
 * How long before expiry to fetch the next token: a quarter of its life, at most a minute,
 * so short-lived tokens are renewed in time and long-lived ones not needlessly early.
 * @param {number} lifetimeSeconds
 */
export function refreshMargin(lifetimeSeconds) {
  return Math.min(60, Math.max(0, lifetimeSeconds) / 4);
}
