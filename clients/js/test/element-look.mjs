// How <belfry-inbox> looks and reads, in Chromium: axe-core's audit (light and dark, open and
// closed, the inbox, archive and snoozed views and the preferences panel, with items of every
// kind), the themes, a 375 px wide viewport, the keyboard (focus kept in the popover, Escape),
// and a German user's page. argv[2] is Belfry's origin, argv[3] a JSON object {token, deToken},
// argv[4] a folder for screenshots. Prints what it saw.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { launch } from "./browser.mjs";
import { inShadow, onlyTo, openInbox, untilShadow } from "./inbox-page.mjs";

const [origin, configJson, artifacts] = process.argv.slice(2);
const { token, deToken } = JSON.parse(configJson);
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
const seen = { audits: [] };

/** axe-core's violations on the page now, by impact, with what they were about. */
async function audit(page, name) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0]?.target }));
  }, TAGS);
  const byImpact = { minor: 0, moderate: 0, serious: 0, critical: 0 };
  for (const v of violations) byImpact[v.impact] += v.nodes;
  seen.audits.push({ name, byImpact, violations });
}

const open = (page) => page.locator("belfry-inbox .bell").click();
const untilItems = (page, count) => untilShadow(page, (root, n) => root.querySelectorAll("li").length === n, count);
const box = (page) => inShadow(page, (root) => root.querySelector(".popover").getBoundingClientRect().toJSON());
const background = (page) => inShadow(page, (root) => getComputedStyle(root.querySelector(".popover")).backgroundColor);

const browser = await launch();
try {
  for (const colorScheme of ["light", "dark"]) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, colorScheme });
    await onlyTo(context, [origin]);
    const page = await openInbox(context, {
      pageOrigin: origin,
      attributes: { token, tabs: JSON.stringify([{ label: "Billing", tags: ["billing"] }]) },
    });
    await untilItems(page, 6);
    await audit(page, `${colorScheme}, closed`);
    await open(page);
    await untilItems(page, 6);
    await audit(page, `${colorScheme}, open, inbox`);
    await page.screenshot({ path: path.join(artifacts, `inbox-${colorScheme}.png`) });
    await page.getByRole("button", { name: `Snooze: Welcome aboard` }).click();
    await audit(page, `${colorScheme}, open, snooze presets`);
    await page.getByRole("button", { name: "Archive", exact: true }).click();
    await untilItems(page, 1);
    await audit(page, `${colorScheme}, open, archive`);
    await page.getByRole("button", { name: "Snoozed", exact: true }).click();
    await untilItems(page, 1);
    await audit(page, `${colorScheme}, open, snoozed`);
    await page.getByRole("button", { name: "Preferences" }).click();
    await untilShadow(page, (root) => root.querySelectorAll("fieldset").length > 1);
    await audit(page, `${colorScheme}, open, preferences`);
    await page.screenshot({ path: path.join(artifacts, `preferences-${colorScheme}.png`) });
    seen[`${colorScheme}Background`] = await background(page);
    await context.close();
  }

  // The theme attribute wins over the system's preference.
  const themed = await browser.newContext({ colorScheme: "dark" });
  await onlyTo(themed, [origin]);
  const light = await openInbox(themed, { pageOrigin: origin, attributes: { token, theme: "light" } });
  seen.themeLightOnDark = await background(light);
  await light.locator("belfry-inbox").evaluate((el) => el.setAttribute("theme", "dark"));
  seen.themeDark = await background(light);
  await light.locator("belfry-inbox").evaluate((el) => el.setAttribute("theme", "auto"));
  seen.themeAutoOnDark = await background(light);
  await themed.close();

  // 375 px wide: the popover fits, whether the bell is at the right or the left.
  const phone = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  await onlyTo(phone, [origin]);
  const narrow = await openInbox(phone, { pageOrigin: origin, attributes: { token } });
  await open(narrow);
  await untilItems(narrow, 6);
  seen.narrowRight = await box(narrow);
  await narrow.screenshot({ path: path.join(artifacts, "inbox-375px.png") });
  await narrow.locator("belfry-inbox").evaluate((el) => (el.style.cssText = "position: fixed; top: 8px; left: 8px"));
  await open(narrow); // closes
  await open(narrow);
  seen.narrowLeft = await box(narrow);
  seen.narrowScrollWidth = await narrow.evaluate(() => document.documentElement.scrollWidth);
  await phone.close();

  // The keyboard: focus moves in, Tab and Shift+Tab stay in, Escape closes and returns to the bell.
  const keys = await browser.newContext();
  await onlyTo(keys, [origin]);
  const page = await openInbox(keys, { pageOrigin: origin, attributes: { token } });
  await untilItems(page, 6);
  await page.locator("belfry-inbox .bell").focus();
  await page.keyboard.press("Enter");
  await untilItems(page, 6);
  const focusInside = () => inShadow(page, (root) => root.querySelector(".popover").contains(root.activeElement));
  seen.focusOnOpen = await focusInside();
  const stops = await inShadow(page, (root) => root.querySelectorAll(".popover button, .popover select, .popover a[href]").length);
  seen.tabStayedInside = true;
  for (let i = 0; i < stops + 3; i++) {
    await page.keyboard.press("Tab");
    seen.tabStayedInside &&= await focusInside();
  }
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press("Shift+Tab");
    seen.tabStayedInside &&= await focusInside();
  }
  await page.keyboard.press("Escape");
  seen.afterEscape = await inShadow(page, (root) => ({
    hidden: root.querySelector(".popover").hidden,
    focusOnBell: root.activeElement === root.querySelector(".bell"),
    expanded: root.querySelector(".bell").getAttribute("aria-expanded"),
  }));
  await keys.close();

  // A German user's page (the viewer's locale), then French by the attribute, then a page's own words.
  const german = await browser.newContext({ locale: "en-US" });
  await onlyTo(german, [origin]);
  const de = await openInbox(german, { pageOrigin: origin, attributes: { token: deToken } });
  await untilShadow(de, (root) => root.querySelector("h2").textContent === "Benachrichtigungen" && root.querySelector("li"));
  const bell = await inShadow(de, (root) => root.querySelector(".bell").getAttribute("aria-label"));
  await open(de);
  await untilItems(de, 1);
  seen.german = { bell, ...(await inShadow(de, (root) => ({
    heading: root.querySelector("h2").textContent,
    markAll: root.querySelector(".mark-all").textContent,
    meta: root.querySelector(".meta span").textContent,
    buttons: [...root.querySelectorAll("li .menu button")].map((b) => b.textContent),
    lang: root.querySelector(".popover").lang,
  }))) };
  await de.locator("belfry-inbox").evaluate((el) => el.setAttribute("locale", "fr"));
  seen.french = await inShadow(de, (root) => ({
    heading: root.querySelector("h2").textContent,
    markAll: root.querySelector(".mark-all").textContent,
  }));
  await de.locator("belfry-inbox").evaluate((el) => (el.messages = { title: "Mitteilungen", markAllRead: "Alles gelesen" }));
  seen.overridden = await inShadow(de, (root) => ({
    heading: root.querySelector("h2").textContent,
    markAll: root.querySelector(".mark-all").textContent,
  }));
  seen.errors = [...de.errors];
  await german.close();

  // For a person to read: axe-core's findings by impact, per state audited.
  const summary = seen.audits.map(({ name, byImpact, violations }) => ({ name, byImpact, rules: violations.map((v) => v.id) }));
  writeFileSync(path.join(artifacts, "axe.json"), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
