// The session cookie in Chromium: a page on the API's own origin (argv[2]) has a token set
// as the cookie (issueUserToken with setCookie, using the API key argv[3] for the user
// argv[4]), then queries, mutates and subscribes with no token in its JavaScript. Prints what
// it saw as JSON.
import { launch } from "./browser.mjs";

const [origin, apiKey, externalId] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${origin}/healthz`);
  const seen = await page.evaluate(
    async ({ apiKey, externalId }) => {
      const graphql = async (query, headers = {}) => {
        const response = await fetch("/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ query }),
        });
        return response.json();
      };
      const issued = await graphql(
        `mutation { issueUserToken(externalId: "${externalId}", setCookie: true) { expiresAt } }`,
        { authorization: `Bearer ${apiKey}` },
      );
      const viewer = await graphql("{ viewer { externalId } unreadCount }");
      const marked = await graphql("mutation { markAllNotificationsRead { marked } }");
      const live = await new Promise((resolve, reject) => {
        const socket = new WebSocket(`${location.origin.replace("http", "ws")}/graphql`, "graphql-transport-ws");
        socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
        socket.onmessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.type === "connection_ack") {
            socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { unreadCount }" } }));
          } else if (message.type === "next") {
            socket.close();
            resolve(message.payload);
          }
        };
        socket.onclose = (event) => reject(new Error(`closed ${event.code} ${event.reason}`));
        setTimeout(() => reject(new Error("no answer")), 10000);
      });
      return { issued, cookieSeenByScript: document.cookie, viewer, marked, live };
    },
    { apiKey, externalId },
  );
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
