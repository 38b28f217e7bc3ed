// The socket.io + Redis peer of the live benchmarks: the same job as bench/raw_server.py, built
// the way Novu's realtime stack is. Sockets live on a socket.io server whose Redis adapter
// spreads broadcasts across nodes; whoever publishes (in Novu, the API and the workers) does not
// hold the sockets, so it reaches them through @socket.io/redis-emitter, one Redis message per
// recipient's room. Here both halves share one process, but every message still crosses Redis.
//
//   node server.js --port P --pg postgresql://... --redis redis://... [--ping-interval MS] [--ping-timeout MS]
//
// GET / answers 200 (the harness polls it); POST /publish {"recipients": [...], "title": "..."}
// stores one row per recipient and emits the event "inbox" to each recipient's room; a client
// names its user in the handshake's auth ({"user": "user-1"}) and joins that user's room.

"use strict";

const crypto = require("node:crypto");
const http = require("node:http");
const { parseArgs } = require("node:util");

const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const Redis = require("ioredis");
const pg = require("pg");

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    pg: { type: "string" },
    redis: { type: "string" },
    // socket.io's defaults; a test lowers them to see pings answered without waiting 45 s.
    "ping-interval": { type: "string", default: "25000" },
    "ping-timeout": { type: "string", default: "20000" },
  },
});
for (const name of ["port", "pg", "redis"]) {
  if (!args[name]) {
    console.error(`usage: node server.js --port P --pg URL --redis URL (missing --${name})`);
    process.exit(2);
  }
}

const TABLE = `
CREATE TABLE IF NOT EXISTS sio_notifications (
    id uuid PRIMARY KEY, recipient text NOT NULL, title text NOT NULL, created_at timestamptz
)`;

// One statement for any number of recipients: the ids and recipients go as two array
// parameters, so the row count is not capped by PostgreSQL's 65,535 parameters per statement.
const INSERT = `
INSERT INTO sio_notifications (id, recipient, title, created_at)
SELECT id, recipient, $3, $4 FROM unnest($1::uuid[], $2::text[]) AS rows (id, recipient)`;

const pool = new pg.Pool({ connectionString: args.pg, max: 10 });
// The adapter's pair (a subscribed connection can do nothing else) and the emitter's own.
const pubClient = new Redis(args.redis);
const subClient = pubClient.duplicate();
const emitterClient = pubClient.duplicate();
for (const client of [pubClient, subClient, emitterClient]) {
  client.on("error", (error) => console.error("redis:", error.message));
}
const emitter = new Emitter(emitterClient);

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function reply(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function publish(request, response) {
  let body;
  try {
    body = await readJson(request);
  } catch {
    return reply(response, 400, { error: "the body is not JSON" });
  }
  const { recipients, title } = body;
  if (!Array.isArray(recipients) || typeof title !== "string") {
    return reply(response, 400, { error: "expected {recipients: [...], title: string}" });
  }
  const ids = recipients.map(() => crypto.randomUUID());
  await pool.query(INSERT, [ids, recipients, title, new Date()]);
  recipients.forEach((recipient, i) => {
    // The same frame body as the raw baseline's, as one socket.io event.
    const payload = { kind: "CREATED", unreadCount: 1, notification: { id: ids[i], title } };
    emitter.to(recipient).emit("inbox", payload);
  });
  // The emitter does not wait for its PUBLISHes; one round trip on the same connection, which
  // Redis answers in order, does, so the reply comes after Redis has them (as the raw one's).
  await emitterClient.ping();
  reply(response, 200, { count: recipients.length });
}

const httpServer = http.createServer((request, response) => {
  // socket.io answers /socket.io/ itself and hands every other request to this listener.
  if (request.method === "GET" && request.url === "/") {
    return reply(response, 200, { ok: true });
  }
  if (request.method === "POST" && request.url === "/publish") {
    return publish(request, response).catch((error) => {
      console.error("publish:", error);
      if (!response.headersSent) reply(response, 500, { error: error.message });
    });
  }
  reply(response, 404, { error: "not found" });
});

const io = new Server(httpServer, {
  adapter: createAdapter(pubClient, subClient),
  transports: ["websocket"], // no long-polling first, as the other systems' clients
  perMessageDeflate: false,
  serveClient: false,
  pingInterval: Number(args["ping-interval"]),
  pingTimeout: Number(args["ping-timeout"]),
});

io.use((socket, next) => {
  // Novu checks a subscriber's JWT here; the raw baseline names its user in the URL unchecked,
  // and so does this peer, in the handshake's auth.
  const user = socket.handshake.auth && socket.handshake.auth.user;
  if (typeof user !== "string" || user === "") return next(new Error("auth.user is required"));
  socket.data.user = user;
  next();
});

io.on("connection", (socket) => {
  socket.join(socket.data.user);
});

async function main() {
  await pool.query(TABLE);
  httpServer.listen(Number(args.port), "127.0.0.1");
}

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(1), 5000).unref(); // should a connection hold the close up
  // Closes every socket and the HTTP server, then the connections behind them.
  io.close(async () => {
    await Promise.allSettled([pubClient.quit(), subClient.quit(), emitterClient.quit(), pool.end()]);
    process.exit(0);
  });
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
