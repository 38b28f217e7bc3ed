// The client and its inbox store in Node, driven over stdio by a test, one JSON object a line.
//
//   node inbox-client.mjs GRAPHQL_URL [OPTIONS_JSON]
//
// Out: {"event": "token-request"} whenever the client wants a token (the test answers with
// {"cmd": "token", "token": "..."}, or {"cmd": "token", "error": "..."} for a failing source); {"event": "status", status, code, reason} on connection
// changes; {"event": "state", ...} after every change of the store; {"event": "done", cmd,
// result} or {"event": "failed", cmd, error} for each command.
// In: {"cmd": "markRead" | "markUnread" | "delete", "id"}, {"cmd": "markAllRead"},
// {"cmd": "loadMore"}, {"cmd": "setCategory", "category"}.
import readline from "node:readline";
import WebSocket from "ws";
import { createBelfryClient, createInboxStore } from "../src/index.js";

const [url, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson || "{}");

const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

/** @type {((token: string) => void)[]} */
const waitingForToken = [];
function getToken() {
  say({ event: "token-request" });
  return new Promise((resolve, reject) =>
    waitingForToken.push(({ token, error }) => (error ? reject(new Error(error)) : resolve(token))),
  );
}

const client = createBelfryClient({
  url,
  getToken,
  webSocketImpl: WebSocket,
  refreshBeforeExpiry: options.refreshBeforeExpiry ?? true,
  maxAuthRetries: options.maxAuthRetries ?? 3,
});
client.onStatus((status, detail) => say({ event: "status", status, code: detail?.code, reason: detail?.reason }));

const store = createInboxStore(client, { pageSize: options.pageSize ?? 20 });
store.subscribe((state) =>
  say({
    event: "state",
    synced: state.synced,
    loading: state.loading,
    unreadCount: state.unreadCount,
    hasMore: state.hasMore,
    category: state.category,
    items: state.items.map(({ id, title, category, isRead }) => ({ id, title, category, isRead })),
    error: state.error?.message ?? null,
  }),
);
store.start();

const commands = {
  markRead: ({ id }) => store.markRead(id).then((n) => n.isRead),
  markUnread: ({ id }) => store.markUnread(id).then((n) => n.isRead),
  markAllRead: () => store.markAllRead(),
  delete: ({ id }) => store.delete(id),
  loadMore: () => store.loadMore(),
  setCategory: ({ category }) => store.setCategory(category),
};

const input = readline.createInterface({ input: process.stdin });
input.on("line", async (line) => {
  const message = JSON.parse(line);
  if (message.cmd === "token") return waitingForToken.shift()?.(message);
  try {
    const result = await commands[message.cmd](message);
    say({ event: "done", cmd: message.cmd, result: result ?? null });
  } catch (error) {
    say({ event: "failed", cmd: message.cmd, error: String(error?.message ?? error) });
  }
});
// The test ends the script by closing its stdin.
input.on("close", async () => {
  await client.dispose();
  process.exit(0);
});
