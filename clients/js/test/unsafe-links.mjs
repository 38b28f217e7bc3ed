// Shows <belfry-inbox> in Chromium, on a page of Belfry's own origin (argv[2]) signed in with
// the user token argv[3], whose inbox holds notifications with the links of argv[4] (a JSON
// object of title to link). Clicks the title of each notification argv[5] names (a JSON list)
// and the action buttons argv[6] names (a JSON list, optional), then a javascript: link of the
// page itself, whose alert marks when every earlier click has had its effect. Prints the
// alerts, what each title rendered as, every href in the shadow root, the actions taken and any
// request that tried to leave the origin.
import { launch, loopbackOnly } from "./browser.mjs";

const [origin, token, linksJson, clickedJson, actionsJson = "[]"] = process.argv.slice(2);
const links = JSON.parse(linksJson);
const clicked = JSON.parse(clickedJson);
const actions = JSON.parse(actionsJson);
const WAIT = { timeout: 30000 };

const browser = await launch();
try {
  const context = await browser.newContext();
  const foreign = await loopbackOnly(context, origin);
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  // A page of Belfry's origin (one the test made up would count as a public site, which
  // Chromium keeps from reaching a loopback server), given the element and a link of its own.
  await page.goto(`${origin}/healthz`);
  await page.evaluate(
    ({ token }) =>
      new Promise((resolve, reject) => {
        document.body.innerHTML = `<a id="control" href="javascript:alert('control')">control</a>`;
        const inbox = document.createElement("belfry-inbox");
        inbox.setAttribute("token", token);
        window.taken = [];
        inbox.addEventListener("belfry-action", (event) => window.taken.push(event.detail.action.id));
        // At the top right, as a bell usually is: the popover opens below it, to the left.
        inbox.style.cssText = "position: fixed; top: 8px; right: 8px";
        document.body.append(inbox);
        const script = Object.assign(document.createElement("script"), { src: "/static/belfry/belfry.js" });
        script.onload = resolve;
        script.onerror = () => reject(new Error("the element's script did not load"));
        document.head.append(script);
      }),
    { token },
  );

  await page.locator("belfry-inbox .bell").click();
  await page.waitForFunction(
    (count) => document.querySelector("belfry-inbox").shadowRoot.querySelectorAll("li").length === count,
    Object.keys(links).length,
    WAIT,
  );
  const titles = await page.locator("belfry-inbox").evaluate((el) =>
    Object.fromEntries(
      [...el.shadowRoot.querySelectorAll(".title")].map((t) => [t.textContent, { tag: t.tagName.toLowerCase(), href: t.getAttribute("href") }]),
    ),
  );
  const hrefs = await page.locator("belfry-inbox").evaluate((el) =>
    [...el.shadowRoot.querySelectorAll("[href]")].map((node) => node.getAttribute("href")),
  );

  const start = page.url();
  for (const title of clicked) {
    const exactly = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
    await page.locator("belfry-inbox .title").filter({ hasText: exactly }).click();
    if (page.url() !== start) break; // the click left the page: nothing more to click here
  }
  // Action buttons (argv[6], by accessible name): each is recorded, then its url followed only
  // if it is safe; belfry-action fires between the two.
  for (const [index, name] of actions.entries()) {
    if (page.url() !== start) break;
    await page.getByRole("button", { name, exact: true }).click();
    await page.waitForFunction((count) => window.taken.length === count, index + 1, WAIT);
  }
  if (page.url() === start) {
    // A click's javascript: URL runs in a task of its own: once the page's own control link
    // has alerted, every click before it has run whatever it was going to.
    const control = page.waitForEvent("dialog", { predicate: (d) => d.message() === "control", ...WAIT });
    await page.locator("#control").click();
    await control;
  }

  const taken = page.url() === start ? await page.evaluate(() => window.taken) : null;
  console.log(JSON.stringify({ dialogs, titles, hrefs, foreign, errors, taken, url: page.url() }));
} finally {
  await browser.close();
}
