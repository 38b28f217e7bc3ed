// <belfry-inbox> when it cannot work, in Chromium: a page on an origin the server refuses, a
// token endpoint answering 401, 500, or slowly, a server out of reach, and a user over the rate
// limit. argv[2] is a JSON object: {belfry, other, limited, closed (origins), token,
// limitedToken}; `other` is another loopback origin of the same server, not allowed; `limited`
// a server whose user rate limit is low. Prints what each page showed and told.
import { launch } from "./browser.mjs";
import { WAIT, inShadow, onlyTo, openInbox, untilShadow } from "./inbox-page.mjs";

const config = JSON.parse(process.argv[2]);
const { belfry, other, limited, closed, token, limitedToken } = config;
const seen = {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The problem the element shows, and the statuses it told the page. */
async function shown(page) {
  const box = await inShadow(page, (root) => {
    const state = root.querySelector(".state");
    return {
      hidden: state.hidden,
      problem: state.dataset.problem ?? null,
      role: state.getAttribute("role"),
      text: [...state.children].map((child) => child.textContent),
      popoverText: root.querySelector(".popover").textContent,
    };
  });
  const statuses = await page.evaluate(() => window.belfryEvents.filter((e) => e.type === "belfry-status").map((e) => e.detail));
  return { ...box, statuses, errors: page.errors };
}

const untilProblem = (page, kind) => untilShadow(page, (root, kind) => root.querySelector(".state").dataset.problem === kind && !root.querySelector(".state").hidden, kind);

const browser = await launch();
try {
  const context = await browser.newContext();
  const foreign = await onlyTo(context, [belfry, other, limited, closed]);
  const tokenRequests = { refused: 0, failing: 0 };
  let releaseSlow;
  const slowTokenAsked = new Promise((resolve) => (releaseSlow = resolve));
  /** @type {(() => void) | null} */
  let answerSlow = null;
  await context.route(`${belfry}/token/**`, async (route) => {
    const kind = new URL(route.request().url()).pathname.split("/").pop();
    if (kind === "refused") {
      tokenRequests.refused += 1;
      return route.fulfill({ status: 401, contentType: "application/json", body: '{"error": "signed out"}' });
    }
    if (kind === "failing") {
      tokenRequests.failing += 1;
      return route.fulfill({ status: 500, contentType: "text/plain", body: "down" });
    }
    // "slow": answered when the test says so.
    await new Promise((resolve) => {
      answerSlow = resolve;
      releaseSlow();
    });
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ token }) });
  });

  // A page on an origin the server does not list: told apart from a server that is down.
  const refused = await openInbox(context, {
    pageOrigin: other,
    attributes: { url: `${belfry}/graphql`, token },
  });
  await untilProblem(refused, "refused-origin");
  await refused.locator("belfry-inbox .bell").click();
  seen.refusedOrigin = await shown(refused);

  // A token endpoint that answers 401: unauthorized, and no reconnecting until asked to.
  const unauthorized = await openInbox(context, { pageOrigin: belfry, attributes: { "token-url": "/token/refused" } });
  await untilProblem(unauthorized, "unauthorized");
  seen.unauthorized = await shown(unauthorized);
  await unauthorized.locator("belfry-inbox .bell").click();
  await unauthorized.getByRole("button", { name: "Try again" }).click();
  await unauthorized.waitForFunction(
    () => window.belfryEvents.filter((e) => e.type === "belfry-status" && e.detail.status === "unauthorized").length === 2,
    null,
    WAIT,
  );
  seen.tokenRequestsAfterRetry = tokenRequests.refused;

  // A token endpoint that fails (500): said so, and tried again with back-off.
  const failing = await openInbox(context, { pageOrigin: belfry, attributes: { "token-url": "/token/failing" } });
  await untilProblem(failing, "token-unavailable");
  seen.tokenUnavailable = await shown(failing);
  for (let waited = 0; tokenRequests.failing < 2 && waited < WAIT.timeout; waited += 100) await sleep(100);
  seen.failingTokenRequests = tokenRequests.failing;

  // A slow token endpoint: the popover says it is loading until the token comes.
  const slow = await openInbox(context, { pageOrigin: belfry, attributes: { "token-url": "/token/slow" } });
  await slowTokenAsked;
  await slow.locator("belfry-inbox .bell").click();
  seen.loading = await inShadow(slow, (root) => ({
    note: root.querySelector(".note").textContent,
    hidden: root.querySelector(".note").hidden,
    role: root.querySelector(".note").getAttribute("role"),
  }));
  answerSlow();
  await untilShadow(slow, (root) => root.querySelector(".note").textContent === "You're all caught up");
  seen.afterLoading = await inShadow(slow, (root) => root.querySelector(".note").textContent);

  // A server nobody answers at.
  const unreachable = await openInbox(context, { pageOrigin: belfry, attributes: { url: `${closed}/graphql`, token } });
  await untilProblem(unreachable, "unreachable");
  seen.unreachable = await shown(unreachable);

  // Over the rate limit: the user's requests of this window spent, then the element opened.
  for (let attempt = 0; attempt < 3 && !seen.rateLimited; attempt++) {
    let answered;
    do {
      answered = await fetch(`${limited}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${limitedToken}`, "content-type": "application/json" },
        body: JSON.stringify({ query: "{ unreadCount }" }),
      });
    } while (answered.status !== 429);
    const page = await openInbox(context, { pageOrigin: limited, attributes: { token: limitedToken } });
    try {
      await untilShadow(page, (root) => root.querySelector(".state").dataset.problem === "rate-limited", undefined);
      seen.rateLimited = await shown(page);
      await untilShadow(page, (root) => root.querySelector(".state").hidden && root.querySelector(".note").textContent === "You're all caught up");
      seen.afterRateLimit = await inShadow(page, (root) => root.querySelector(".note").textContent);
    } catch {
      await page.close(); // the window turned before the element asked: spend the next one
    }
  }
  console.log(JSON.stringify({ foreign, ...seen }));
} finally {
  await browser.close();
}
