// graphql-http's audit of the GraphQL over HTTP specification, run against a live Belfry.
// Usage: node audit.mjs URL [TOKEN]. The token (an API key or user token) is sent as
// `Authorization: Bearer ...` on every request the audits make. Prints
// {"ok": [...], "notice": [...], "warn": [...], "error": [...]}, each entry {id, name, reason}.
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs URL [TOKEN]');
  process.exit(2);
}

function signedFetch(input, init = {}) {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const found = { ok: [], notice: [], warn: [], error: [] };
for (const audit of serverAudits({ url, fetchFn: signedFetch })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.status = result.response ? result.response.status : null;
  }
  found[result.status].push(entry);
}
console.log(JSON.stringify(found));
