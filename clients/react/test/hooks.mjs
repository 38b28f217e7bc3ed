// The test application (test/app.tsx, built here with esbuild against the real React 19 and
// the built @belfry/react) in Chromium, on a page of Belfry's origin, driven over stdio.
//
//   node test/hooks.mjs BELFRY_ORIGIN USER_TOKEN
//
// Out: {"event": "ready"} once the hooks follow the inbox; then a {"event": "seen", ...} for
// each command: what the page shows (the hooks' list, counts and view, the element's items)
// and what its callbacks were given.
// In: {"cmd": "click", "name"} clicks the button of that name; {"cmd": "await", "shows",
// "hides", "unread", "acted", "view", "elementShows"} waits until the hooks' list shows these
// titles and none of those, the unread count is `unread`, at least `acted` actions were taken,
// the view is `view`, and the element shows those titles (each optional); both then answer.
import { build } from "esbuild";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { launch } from "../../js/test/browser.mjs";

const [origin, token] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const WAIT = { timeout: 30000 };
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const bundle = await build({
  entryPoints: [path.join(here, "app.tsx")],
  bundle: true,
  write: false,
  format: "iife",
  platform: "browser",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"development"' }, // React's checks and warnings on
  logLevel: "warning",
});

const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    // The browser asks /healthz's origin for a favicon, which Belfry has not: not the app's.
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) errors.push(message.text());
  });
  await page.goto(`${origin}/healthz`);
  await page.evaluate(
    ({ origin, token }) => {
      document.body.innerHTML = '<div id="root"></div>';
      window.BELFRY = { url: `${origin}/graphql`, token };
    },
    { origin, token },
  );
  await page.addScriptTag({ content: bundle.outputFiles[0].text });
  await page.waitForFunction(() => document.querySelector("#inbox")?.dataset.synced === "true", null, WAIT);
  say({ event: "ready" });

  const seen = () =>
    page.evaluate(() => {
      const inbox = document.querySelector("#inbox");
      const counts = document.querySelector("#counts");
      const element = document.querySelector("belfry-inbox");
      return {
        titles: [...inbox.querySelectorAll(".title")].map((node) => node.textContent),
        ids: Object.fromEntries([...inbox.querySelectorAll("li")].map((li) => [li.querySelector(".title").textContent, li.dataset.id])),
        view: inbox.dataset.view,
        status: inbox.dataset.status,
        unread: Number(counts.dataset.unread),
        unseen: Number(counts.dataset.unseen),
        elementTitles: [...(element?.shadowRoot?.querySelectorAll(".title") ?? [])].map((node) => node.textContent),
        ...window.seen,
      };
    });

  for await (const line of readline.createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    if (command.cmd === "click") {
      await page.getByRole("button", { name: command.name, exact: true }).click();
    } else if (command.cmd === "await") {
      await page.waitForFunction(
        ({ shows, hides, unread, acted, view, elementShows }) => {
          const titles = [...document.querySelectorAll("#inbox .title")].map((node) => node.textContent);
          const element = document.querySelector("belfry-inbox")?.shadowRoot;
          const elementTitles = [...(element?.querySelectorAll(".title") ?? [])].map((node) => node.textContent);
          return (
            shows.every((t) => titles.includes(t)) &&
            elementShows.every((t) => elementTitles.includes(t)) &&
            !hides.some((t) => titles.includes(t)) &&
            (unread === null || document.querySelector("#counts").dataset.unread === String(unread)) &&
            window.seen.acted.length >= acted &&
            (!view || document.querySelector("#inbox").dataset.view === view)
          );
        },
        {
          shows: command.shows ?? [],
          hides: command.hides ?? [],
          unread: command.unread ?? null,
          acted: command.acted ?? 0,
          view: command.view,
          elementShows: command.elementShows ?? [],
        },
        WAIT,
      );
    }
    say({ event: "seen", cmd: command.cmd, ...(await seen()), errors });
  }
} finally {
  await browser.close();
}
