// Which links the inbox may put in an href. Belfry accepts only an absolute http(s) URL or a
// path starting with a single "/" for a notification's link and its buttons' urls, but a
// client shows whatever it is sent (rows written before that check, another writer), so it
// checks again: anything else is shown as text, never followed.

// What a browser drops from a URL ("java\tscript:", " javascript:") or reads as a slash ("/\host"),
// and what hides in one (spaces, invisible formatting): with any of these, the link that was
// checked would not be the link that is followed.
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Z}\s\\]/u;
const MAX_LINK = 2048;
// "http(s)://", then a host and nothing else before the path: letters and digits of any script,
// "-" and "_" in dot-separated labels, or an IPv6 address in brackets, and a port. Not a user
// name or password, nor percent-escapes (which browsers decode in a host).
const WEB_URL = /^https?:\/\/(?:[\p{L}\p{N}\p{M}_-]+(?:\.[\p{L}\p{N}\p{M}_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d*)?(?:[/?#]|$)/iu;

/**
 * The link itself if a browser would follow it to a web page only: an http(s) URL with a host,
 * or a path on this site. Otherwise null: another scheme (javascript:, data:), or a path that
 * leads to another host ("//host").
 * @param {unknown} link
 * @returns {string | null}
 */
export function safeLink(link) {
  if (typeof link !== "string" || !link || link.length > MAX_LINK || HIDDEN.test(link)) return null;
  if (link.startsWith("/")) return link.startsWith("//") ? null : link;
  if (!WEB_URL.test(link)) return null; // also "https:host": browsers find a host there too
  try {
    new URL(link); // and the port is a port, the IPv6 address an address
    return link;
  } catch {
    return null;
  }
}
