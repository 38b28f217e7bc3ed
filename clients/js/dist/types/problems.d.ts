/**
 * @typedef {"refused-origin" | "unauthorized" | "token-unavailable" | "unreachable" | "rate-limited" | "failed"} ProblemKind
 * @typedef {{kind: ProblemKind, message: string, cause: string, retryIn: number | null}} Problem
 */
/** The http(s) address of a GraphQL endpoint given as http(s), ws(s) or a path. */
export function httpUrl(url: string | null | undefined): string;
/**
 * Why a connection to `url` fails: "refused-origin" when the server answers but not to this
 * page's origin, "unreachable" when nothing answers, null when the server answers this page
 * (the trouble is elsewhere, or passed).
 * @param {string} url @returns {Promise<"refused-origin" | "unreachable" | null>}
 */
export function probe(url: string): Promise<"refused-origin" | "unreachable" | null>;
/** Whether `error` says the server limits this user's requests (RATE_LIMITED). */
export function rateLimited(error: unknown): boolean;
/**
 * The problem to show for `kind`, in the element's words.
 * @param {ProblemKind} kind @param {import("./messages.js").Translate} t
 * @param {{url?: string, error?: any, status?: number}} [detail]
 * @returns {Problem}
 */
export function describe(kind: ProblemKind, t: import("./messages.js").Translate, detail?: {
    url?: string;
    error?: any;
    status?: number;
}): Problem;
export type ProblemKind = "refused-origin" | "unauthorized" | "token-unavailable" | "unreachable" | "rate-limited" | "failed";
export type Problem = {
    kind: ProblemKind;
    message: string;
    cause: string;
    retryIn: number | null;
};
