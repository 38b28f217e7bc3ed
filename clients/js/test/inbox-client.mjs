// The client and its inbox store in Node, driven over stdio by a test, one JSON object a line.
//
//   node inbox-client.mjs GRAPHQL_URL [OPTIONS_JSON]
//
// Out: {"event": "token-request"} whenever the client wants a token (the test answers with
// {"cmd": "token", "token": "..."}, or {"cmd": "token", "error": "..."} for a failing source); {"event": "status", status, code, reason} on connection
// changes; {"event": "state", ...} after every change of the store; {"event": "done", cmd,
// result} or {"event": "failed", cmd, error} for each command.
// {"event": "arrived", id, title, kind} for each notification the store announces as new.
// In: {"cmd": "markRead" | "markUnread" | "delete" | "archive" | "unarchive" | "unsnooze", "id"},
// {"cmd": "markAllRead"}, {"cmd": "markSeen", "ids"?}, {"cmd": "snooze", "id", "until"},
// {"cmd": "act", "id", "actionId"}, {"cmd": "loadMore"}, {"cmd": "setCategory", "category"},
// {"cmd": "setView", "view"}, {"cmd": "setTags", "tags"}.
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
    unseenCount: state.unseenCount,
    hasMore: state.hasMore,
    category: state.category,
    view: state.view,
    tags: state.tags,
    status: state.status,
    items: state.items,
    error: state.error?.message ?? null,
  }),
);
store.onNotification((n, event) => say({ event: "arrived", id: n.id, title: n.title, kind: event.kind }));
store.start();

const commands = {
  markRead: ({ id }) => store.markRead(id).then((n) => n.isRead),
  markUnread: ({ id }) => store.markUnread(id).then((n) => n.isRead),
  markAllRead: () => store.markAllRead(),
  delete: ({ id }) => store.delete(id),
  loadMore: () => store.loadMore(),
  setCategory: ({ category }) => store.setCategory(category),
  setView: ({ view }) => store.setView(view),
  setTags: ({ tags }) => store.setTags(tags),
  markSeen: ({ ids }) => store.markSeen(ids),
  archive: ({ id }) => store.archive(id).then((n) => n.isArchived),
  unarchive: ({ id }) => store.unarchive(id).then((n) => n.isArchived),
  snooze: ({ id, until }) => store.snooze(id, until).then((n) => n.snoozedUntil),
  unsnooze: ({ id }) => store.unsnooze(id).then((n) => n.snoozedUntil),
  act: ({ id, actionId }) => store.act(id, actionId),
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
