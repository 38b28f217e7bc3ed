/**
 * The link itself if a browser would follow it to a web page only: an http(s) URL with a host,
 * or a path on this site. Otherwise null: another scheme (javascript:, data:), or a path that
 * leads to another host ("//host").
 * @param {unknown} link
 * @returns {string | null}
 */
export function safeLink(link: unknown): string | null;
