// The client and <belfry-inbox> in cookie mode, in Chromium, on a page of another allowed
// origin (argv[2]) than Belfry's (argv[3]), driven over stdio by a test.
//
//   node cookie-mode.mjs PAGE_ORIGIN BELFRY_ORIGIN API_KEY EXTERNAL_ID
//
// The page has Belfry set the session cookie (issueUserToken with setCookie, the API key
// standing in for the host's backend), then runs a client and store with
// `credentials: "include"` and no token, and an element with `credentials="include"`.
// Out: {"event": "ready"} once both follow the inbox; then, on {"cmd": "mark", "title"}, once
// both show that notification, marks it read through the store and prints {"event": "seen",
// ...}: what each showed, the unread count after, every connection_init payload the page sent
// and the cookies its script could read.
import readline from "node:readline";
import { launch } from "./browser.mjs";

const [pageOrigin, belfry, apiKey, externalId] = process.argv.slice(2);
const WAIT = { timeout: 30000 };
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const browser = await launch();
const input = readline.createInterface({ input: process.stdin });
const commands = input[Symbol.asyncIterator]();
try {
  const page = await (await browser.newContext()).newPage();
  const sent = [];
  page.on("websocket", (socket) => socket.on("framesent", (frame) => sent.push(frame.payload)));
  await page.goto(`${pageOrigin}/`);
  await page.evaluate(
    async ({ belfry, apiKey, externalId }) => {
      const issued = await fetch(`${belfry}/graphql`, {
        method: "POST",
        credentials: "include",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          query: "mutation($id: String!) { issueUserToken(externalId: $id, setCookie: true) { expiresAt } }",
          variables: { id: externalId },
        }),
      }).then((response) => response.json());
      if (issued.errors) throw new Error(JSON.stringify(issued.errors));
      await new Promise((resolve, reject) => {
        const script = Object.assign(document.createElement("script"), { src: `${belfry}/static/belfry/belfry.js` });
        script.onload = resolve;
        script.onerror = () => reject(new Error("the element's script did not load"));
        document.head.append(script);
      });
      const client = window.Belfry.createBelfryClient({ url: `${belfry}/graphql`, credentials: "include" });
      window.store = window.Belfry.createInboxStore(client);
      window.store.start();
      const inbox = document.createElement("belfry-inbox");
      inbox.setAttribute("url", `${belfry}/graphql`);
      inbox.setAttribute("credentials", "include");
      document.body.append(inbox);
    },
    { belfry, apiKey, externalId },
  );
  await page.waitForFunction(
    () => window.store.state.synced && document.querySelector("belfry-inbox").store?.state.synced,
    null,
    WAIT,
  );
  say({ event: "ready" });

  const { value: line } = await commands.next();
  const { title } = JSON.parse(line);
  await page.waitForFunction(
    (title) => {
      const titles = (items) => items.map((n) => n.title);
      const element = document.querySelector("belfry-inbox");
      return (
        titles(window.store.state.items).includes(title) &&
        [...element.shadowRoot.querySelectorAll(".title")].some((node) => node.textContent === title)
      );
    },
    title,
    WAIT,
  );
  const seen = await page.evaluate(async (title) => {
    const item = window.store.state.items.find((n) => n.title === title);
    const before = window.store.state.unreadCount;
    await window.store.markRead(item.id);
    const element = document.querySelector("belfry-inbox");
    return {
      storeTitles: window.store.state.items.map((n) => n.title),
      elementTitles: [...element.shadowRoot.querySelectorAll(".title")].map((node) => node.textContent),
      unreadBefore: before,
      readAfter: window.store.state.items.find((n) => n.id === item.id).isRead,
      cookieSeenByScript: document.cookie,
    };
  }, title);
  const inits = sent.map((payload) => JSON.parse(payload)).filter((message) => message.type === "connection_init");
  say({ event: "seen", ...seen, connectionInits: inits });
} finally {
  input.close();
  await browser.close();
}
