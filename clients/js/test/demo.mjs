// Opens Belfry's /demo page (argv[2]) in two tabs of one browser, with no network beyond the
// server, and checks that they stay in step: argv[3] notifications were published before, the
// page shows them argv[4] at a time. Screenshots go to the folder argv[5]; argv[6] is the demo
// tenant's API key, to publish through the API (to a team) as a backend does. Prints what it saw.
import path from "node:path";
import { launch, loopbackOnly } from "./browser.mjs";

const [url, publishedBefore, pageSize, artifacts, apiKey] = process.argv.slice(2);
const total = Number(publishedBefore);
const WAIT = { timeout: 30000 };

/** The badge's text, or "" when it is hidden. */
const badge = (page) =>
  page.locator("belfry-inbox").evaluate((el) => {
    const b = el.shadowRoot.querySelector(".badge");
    return b.hidden ? "" : b.textContent;
  });

const waitForBadge = (page, text) =>
  page.waitForFunction(
    (want) => {
      const b = document.querySelector("belfry-inbox")?.shadowRoot?.querySelector(".badge");
      return b && (b.hidden ? "" : b.textContent) === want;
    },
    text,
    WAIT,
  );

const items = (page) => page.locator("belfry-inbox li");

/** Scrolls the open list to its end until every notification is loaded (or 20 tries). */
async function scrollToTheEnd(page) {
  for (let tries = 0; tries < 20 && (await items(page).count()) < total; tries++) {
    const before = await items(page).count();
    await page.locator("belfry-inbox .scroller").evaluate((s) => (s.scrollTop = s.scrollHeight));
    await page.waitForFunction(
      (n) => document.querySelector("belfry-inbox").shadowRoot.querySelectorAll("li").length > n,
      before,
      WAIT,
    );
  }
  return items(page).count();
}

async function call(query, variables) {
  const response = await fetch(new URL("/graphql", url), {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
}

/** Publishes to the demo user through a team of theirs, named `team`. */
async function publishThroughTeam(title, team) {
  await call('mutation($name: String!) { upsertTeam(input: {key: "ops", name: $name}) { key } }', { name: team });
  await call('mutation { setTeamMembers(key: "ops", externalIds: ["demo-user"]) { key } }');
  await call("mutation($input: PublishNotificationInput!) { publishNotification(input: $input) { count } }", {
    input: { teams: ["ops"], category: "system.maintenance", title },
  });
}

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const foreign = await loopbackOnly(context, new URL(url).origin);
  const failed = [];
  const errors = [];
  const open = async () => {
    const page = await context.newPage();
    page.on("requestfailed", (request) => failed.push(request.url()));
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${url}?page-size=${pageSize}`);
    return page;
  };
  const [a, b] = [await open(), await open()];
  const seen = {};

  // Both tabs sign in through the token endpoint and show the unread count.
  await waitForBadge(a, String(total));
  await waitForBadge(b, String(total));

  // Infinite scroll: the first page, then the rest as the list is scrolled.
  await a.locator("belfry-inbox .bell").click();
  await items(a).first().waitFor(WAIT);
  seen.firstPage = await items(a).count();
  seen.afterScrolling = await scrollToTheEnd(a);

  // The demo's button publishes; both tabs' badges and lists follow.
  await a.getByRole("button", { name: "Send a sample notification" }).click();
  await a.locator("#sent").filter({ hasText: "Sent:" }).waitFor(WAIT);
  seen.sent = (await a.locator("#sent").textContent()).replace("Sent: ", "");
  await waitForBadge(a, String(total + 1));
  await waitForBadge(b, String(total + 1));
  await b.locator("belfry-inbox .bell").click();
  await items(b).first().locator(".title").filter({ hasText: seen.sent }).waitFor(WAIT);
  seen.newestInA = await items(a).first().locator(".title").textContent();
  seen.newestInB = await items(b).first().locator(".title").textContent();

  // A backend publishes through the API, to a team; both tabs follow again, naming the team.
  seen.published = "Published through the API";
  seen.team = "Operations";
  await publishThroughTeam(seen.published, seen.team);
  await waitForBadge(a, String(total + 2));
  await waitForBadge(b, String(total + 2));
  await items(b).first().locator(".title").filter({ hasText: seen.published }).waitFor(WAIT);
  seen.publishedInA = await items(a).first().locator(".title").textContent();
  seen.publishedMeta = await items(a).first().locator(".meta").textContent();
  seen.olderMeta = await items(a).nth(1).locator(".meta").textContent();

  // Marked read in one tab, the other's badge and item follow.
  await items(b).first().getByRole("button", { name: "Mark read" }).click();
  await waitForBadge(a, String(total + 1));
  // (A's popover closed when its page's button was clicked: the item is there, hidden.)
  await items(a).first().and(a.locator("li.read")).waitFor({ ...WAIT, state: "attached" });
  seen.badgesAfterMarkRead = [await badge(a), await badge(b)];

  // Mark all read in one tab clears both badges.
  await a.locator("belfry-inbox .bell").click();
  await a.screenshot({ path: path.join(artifacts, "demo-tab-a.png") });
  await a.getByRole("button", { name: "Mark all read" }).click();
  await waitForBadge(a, "");
  await waitForBadge(b, "");
  seen.badgesAfterMarkAll = [await badge(a), await badge(b)];
  await b.screenshot({ path: path.join(artifacts, "demo-tab-b.png") });

  console.log(JSON.stringify({ foreign, failed, errors, ...seen }));
} finally {
  await browser.close();
}
