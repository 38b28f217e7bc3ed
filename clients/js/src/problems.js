// What keeps the inbox from working, told apart so a person can act on it: the server refusing
// this page's origin, no valid sign-in, the server out of reach, or too many requests.
//
// A browser hides why a websocket handshake failed (a 403 for a refused origin and a closed
// port look alike), so the element asks over HTTP: a CORS request to the endpoint fails when
// the server does not answer this origin, and a no-cors one still reaches a server that is up.
import { errorCode, retryAfterSeconds } from "./store.js";

/**
 * @typedef {"refused-origin" | "unauthorized" | "token-unavailable" | "unreachable" | "rate-limited" | "failed"} ProblemKind
 * @typedef {{kind: ProblemKind, message: string, cause: string, retryIn: number | null}} Problem
 */

/** The http(s) address of a GraphQL endpoint given as http(s), ws(s) or a path. */
export function httpUrl(/** @type {string | null | undefined} */ url) {
  const absolute = new URL(url || "/graphql", location.href);
  if (absolute.protocol === "ws:") absolute.protocol = "http:";
  if (absolute.protocol === "wss:") absolute.protocol = "https:";
  return absolute.toString();
}

/**
 * Why a connection to `url` fails: "refused-origin" when the server answers but not to this
 * page's origin, "unreachable" when nothing answers, null when the server answers this page
 * (the trouble is elsewhere, or passed).
 * @param {string} url @returns {Promise<"refused-origin" | "unreachable" | null>}
 */
export async function probe(url) {
  try {
    await fetch(url, { mode: "cors", credentials: "omit", cache: "no-store" });
    return null;
  } catch {
    // The CORS request failed: the server is down, or refuses this origin.
  }
  try {
    await fetch(url, { mode: "no-cors", credentials: "omit", cache: "no-store" });
    return "refused-origin";
  } catch {
    return "unreachable";
  }
}

/** Whether `error` says the server limits this user's requests (RATE_LIMITED). */
export function rateLimited(/** @type {unknown} */ error) {
  return errorCode(error) === "RATE_LIMITED";
}

/**
 * The problem to show for `kind`, in the element's words.
 * @param {ProblemKind} kind @param {import("./messages.js").Translate} t
 * @param {{url?: string, error?: any, status?: number}} [detail]
 * @returns {Problem}
 */
export function describe(kind, t, detail = {}) {
  const { url = "", error, status } = detail;
  switch (kind) {
    case "refused-origin":
      return { kind, message: t("refusedOrigin"), cause: t("refusedOriginCause", { origin: location.origin }), retryIn: null };
    case "unauthorized":
      return {
        kind,
        message: t("unauthorized"),
        cause: status ? t("unauthorizedToken", { status: String(status) }) : t("unauthorizedServer", { reason: error?.reason || error?.message || "" }),
        retryIn: null,
      };
    case "token-unavailable":
      return { kind, message: t("tokenUnavailable"), cause: t("tokenUnavailableCause", { reason: String(error?.message ?? error) }), retryIn: null };
    case "unreachable":
      return { kind, message: t("unreachable"), cause: t("unreachableCause", { url: new URL(url).host }), retryIn: null };
    case "rate-limited": {
      const seconds = retryAfterSeconds(error) ?? 0;
      return { kind, message: t("rateLimited"), cause: t("rateLimitedCause", { seconds }), retryIn: seconds };
    }
    default:
      return { kind, message: t("failed"), cause: String(error?.message ?? error ?? ""), retryIn: null };
  }
}
