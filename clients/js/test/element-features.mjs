// What <belfry-inbox> shows and does, driven through its UI in two tabs of Chromium and checked
// against the API. argv[2] is Belfry's origin, argv[3] a JSON object: {token, apiKey, user
// (external id), titles: {urgent, high, team, collapsed, plain, billing}}. Prints what it saw.
import { launch } from "./browser.mjs";
import { PUBLISH, WAIT, badge, graphql, inShadow, onlyTo, openInbox, titles, untilShadow, waitForBadge, waitForTitles } from "./inbox-page.mjs";

const [origin, configJson] = process.argv.slice(2);
const { token, apiKey, user, titles: named } = JSON.parse(configJson);
const NOTIFICATION = "id isRead isSeen isArchived snoozedUntil interactedAt";
const seen = {};

const api = (query, variables) => graphql(origin, token, query, variables);
const publish = (input) => graphql(origin, apiKey, PUBLISH, { input: { recipients: [user], category: "billing.low_balance", ...input } });
const byTitle = async (title) => {
  const data = await api(`{ notifications(first: 50, filter: {archived: INCLUDE}) { edges { node { title ${NOTIFICATION} } } } }`);
  const snoozed = await api(`{ notifications(first: 50, filter: {snoozed: true}) { edges { node { title ${NOTIFICATION} } } } }`);
  return [...data.notifications.edges, ...snoozed.notifications.edges].map((e) => e.node).find((n) => n.title === title);
};

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const foreign = await onlyTo(context, [origin]);
  // Desktop notifications cannot be shown by headless Chromium: a fake records them.
  await context.addInitScript(() => {
    window.shownDesktop = [];
    class FakeNotification {
      static permission = "default";
      static async requestPermission() {
        FakeNotification.permission = "granted";
        return "granted";
      }
      constructor(title, options) {
        window.shownDesktop.push({ title, body: options?.body ?? "" });
      }
    }
    window.Notification = FakeNotification;
  });
  const attributes = { token, tabs: JSON.stringify([{ label: "Billing", tags: ["billing"] }]) };
  const a = await openInbox(context, { pageOrigin: origin, attributes });
  const b = await openInbox(context, { pageOrigin: origin, attributes: { ...attributes, "desktop-notifications": "" } });

  // The badge counts unseen notifications; opening the popover marks what it shows seen.
  await waitForBadge(a, "6");
  await waitForBadge(b, "6");
  seen.badgeBefore = await badge(a);
  await a.locator("belfry-inbox .bell").click();
  await untilShadow(a, (root) => root.querySelectorAll("li").length === 6);
  seen.focusInPopover = await inShadow(a, (root) => root.querySelector(".popover").contains(root.activeElement));
  await waitForBadge(a, "");
  await waitForBadge(b, "");
  seen.unseenAfterOpening = (await api("{ unseenCount }")).unseenCount;
  seen.unreadAfterOpening = (await api("{ unreadCount }")).unreadCount;

  // Each kind of notification as shown.
  seen.items = await inShadow(a, (root) =>
    [...root.querySelectorAll("li")].map((li) => ({
      title: li.querySelector(".title").textContent,
      priority: li.querySelector(".priority")?.textContent ?? null,
      meta: [...li.querySelectorAll(".meta > span")].map((s) => s.textContent),
      occurrences: li.querySelector(".occurrences")?.getAttribute("aria-label") ?? null,
      actions: [...li.querySelectorAll(".actions button")].map((button) => ({
        text: button.textContent,
        name: button.getAttribute("aria-label"),
        primary: button.classList.contains("primary"),
      })),
      buttons: [...li.querySelectorAll(".menu button")].map((button) => button.getAttribute("aria-label")),
    })),
  );

  // Tabs by tags: "All" first, then the page's own.
  const tab = (name) => a.getByRole("tab", { name, exact: true });
  seen.tabs = await a.getByRole("tab").allTextContents();
  await tab("Billing").click();
  await waitForTitles(a, [named.billing]);
  seen.billingSelected = await tab("Billing").getAttribute("aria-selected");
  await tab("All").click();
  await untilShadow(a, (root) => root.querySelectorAll("li").length === 6);

  // Archive: out of both tabs' inboxes, into the Archive view, and back.
  await a.getByRole("button", { name: `Archive: ${named.plain}` }).click();
  await untilShadow(a, (root, t) => ![...root.querySelectorAll(".title")].some((n) => n.textContent === t), named.plain);
  await b.locator("belfry-inbox .bell").click();
  await untilShadow(b, (root) => root.querySelectorAll("li").length === 5);
  seen.archivedInApi = (await byTitle(named.plain)).isArchived;
  await a.getByRole("button", { name: "Archive", exact: true }).click();
  await waitForTitles(a, [named.plain]);
  seen.archiveView = await titles(a);
  await a.getByRole("button", { name: `Unarchive: ${named.plain}` }).click();
  await waitForTitles(a, []);
  seen.archiveEmptyNote = await inShadow(a, (root) => root.querySelector(".note").textContent);
  seen.unarchivedInApi = (await byTitle(named.plain)).isArchived;
  await a.getByRole("button", { name: "Inbox", exact: true }).click();
  await untilShadow(a, (root) => root.querySelectorAll("li").length === 6);
  await untilShadow(b, (root) => root.querySelectorAll("li").length === 6);

  // Snooze until tomorrow morning (the user's timezone), shown in the Snoozed view, and back.
  await a.getByRole("button", { name: `Snooze: ${named.plain}` }).click();
  await a.getByRole("button", { name: `Snooze – Tomorrow morning: ${named.plain}` }).click();
  await untilShadow(a, (root) => root.querySelectorAll("li").length === 5);
  await untilShadow(b, (root) => root.querySelectorAll("li").length === 5);
  seen.snoozedUntil = (await byTitle(named.plain)).snoozedUntil;
  await a.getByRole("button", { name: "Snoozed", exact: true }).click();
  await waitForTitles(a, [named.plain]);
  seen.snoozedMeta = await inShadow(a, (root) => [...root.querySelectorAll(".meta span")].map((s) => s.textContent));
  await a.getByRole("button", { name: `Unsnooze: ${named.plain}` }).click();
  await waitForTitles(a, []);
  seen.unsnoozedInApi = (await byTitle(named.plain)).snoozedUntil;
  await a.getByRole("button", { name: "Inbox", exact: true }).click();
  await untilShadow(a, (root) => root.querySelectorAll("li").length === 6);

  // Mark read in one tab, the other follows.
  await b.getByRole("button", { name: `Mark read: ${named.high}` }).click();
  await untilShadow(a, (root, t) => [...root.querySelectorAll("li.read .title")].some((n) => n.textContent === t), named.high);
  seen.readInApi = (await byTitle(named.high)).isRead;

  // A new URGENT one: the page hears of it, the live region says it assertively, and the
  // desktop shows it only once permission was given (on a click) and the tab is hidden.
  await b.getByRole("button", { name: "Show desktop notifications" }).click();
  await b.evaluate(() => Object.defineProperty(document, "hidden", { configurable: true, get: () => true }));
  await publish({ title: "Server on fire", priority: "URGENT" });
  await untilShadow(a, (root) => root.querySelector("[aria-live=assertive]").textContent !== "");
  seen.assertive = await inShadow(a, (root) => root.querySelector("[aria-live=assertive]").textContent);
  await b.waitForFunction(() => window.shownDesktop.length > 0, null, WAIT);
  seen.desktop = await b.evaluate(() => window.shownDesktop);
  await b.evaluate(() => Object.defineProperty(document, "hidden", { configurable: true, get: () => false }));
  await publish({ title: "Weekly report ready" });
  await untilShadow(a, (root) => root.querySelector("[aria-live=polite]").textContent !== "");
  seen.polite = await inShadow(a, (root) => root.querySelector("[aria-live=polite]").textContent);
  seen.desktopAfterVisible = await b.evaluate(() => window.shownDesktop.length);
  seen.arrivals = await a.evaluate(() => window.belfryEvents.filter((e) => e.type === "belfry-notification").map((e) => e.detail.notification.title));

  // Expiry: one that lives a few seconds leaves both tabs when its time comes.
  const expiresAt = new Date(Date.now() + 4000).toISOString();
  await publish({ title: "Flash sale", expiresAt });
  await untilShadow(a, (root) => [...root.querySelectorAll(".title")].some((n) => n.textContent === "Flash sale"));
  seen.expiringShown = true;
  await untilShadow(a, (root) => ![...root.querySelectorAll(".title")].some((n) => n.textContent === "Flash sale"));
  await untilShadow(b, (root) => ![...root.querySelectorAll(".title")].some((n) => n.textContent === "Flash sale"));
  seen.expiredGone = true;

  // A host's own rendering: a node goes in as it is, text as text (never as HTML).
  await b.locator("belfry-inbox").evaluate((el) => {
    el.renderItem = (n) => {
      if (n.priority === "URGENT") return `<img src=x onerror="window.ran = true"> ${n.title}`;
      const node = document.createElement("div");
      node.className = "host-item";
      node.textContent = `Host: ${n.title}`;
      return node;
    };
  });
  seen.hostItems = await inShadow(b, (root) => [...root.querySelectorAll(".host-item")].length);
  seen.hostImages = await inShadow(b, (root) => root.querySelectorAll("li img").length);
  seen.hostText = await inShadow(b, (root) =>
    [...root.querySelectorAll("li")].map((li) => li.firstChild.textContent).find((text) => text.includes("Server on fire")),
  );

  // The primary action: recorded through the API, then its url followed.
  await a.getByRole("button", { name: `Top up: ${named.urgent}` }).click();
  await a.waitForURL(`${origin}/billing?from=inbox`, WAIT);
  const acted = await byTitle(named.urgent);
  seen.acted = { isRead: acted.isRead, interacted: acted.interactedAt !== null };
  seen.errors = [...a.errors, ...b.errors];
  seen.ran = await b.evaluate(() => window.ran ?? false);
  console.log(JSON.stringify({ foreign, ...seen }));
} finally {
  await browser.close();
}
