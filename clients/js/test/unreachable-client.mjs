// The client in Chromium, pointed at a Belfry that is not running yet, driven over stdio by a
// test.
//
//   node unreachable-client.mjs PAGE_ORIGIN LATER_URL TOKEN
//
// The page (served by one Belfry, PAGE_ORIGIN) runs a client against LATER_URL, where nothing
// listens yet, and follows `unreadCount`. Out: {"event": "failing", "statuses"} once the
// socket has failed; {"event": "connected", "count", "statuses"} once the server has come up
// and the count arrived.
import { launch } from "./browser.mjs";

const [pageOrigin, laterUrl, token] = process.argv.slice(2);
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${pageOrigin}/healthz`);
  await page.addScriptTag({ url: `${pageOrigin}/static/belfry/belfry.js` });
  await page.evaluate(
    ({ laterUrl, token }) => {
      window.statuses = [];
      window.counts = [];
      const client = window.Belfry.createBelfryClient({ url: laterUrl, token });
      client.onStatus((status) => window.statuses.push(status));
      client.subscribe(
        { query: "subscription { unreadCount }" },
        { next: (value) => window.counts.push(value.data.unreadCount), error: (e) => window.statuses.push(`error: ${e}`) },
      );
    },
    { laterUrl, token },
  );
  await page.waitForFunction(() => window.statuses.includes("reconnecting"), null, { timeout: 30000 });
  say({ event: "failing", statuses: await page.evaluate(() => window.statuses) });
  await page.waitForFunction(() => window.counts.length > 0, null, { timeout: 60000 });
  say({ event: "connected", count: await page.evaluate(() => window.counts[0]), statuses: await page.evaluate(() => window.statuses) });
} finally {
  await browser.close();
}
