// What the element's browser tests share: a page showing <belfry-inbox> (on a page of Belfry's
// own origin, or of another loopback origin: a page the test made up would count as a public
// site, which Chromium keeps from reaching a loopback server), a look into its shadow root, and
// the API as a backend calls it.

export const WAIT = { timeout: 30000 };

/** Every request to a host other than `origins` is refused and recorded (the test asserts none). */
export async function onlyTo(context, origins) {
  const foreign = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (origins.some((origin) => url.startsWith(origin)) || url.startsWith("data:") || url.startsWith("blob:")) {
      return route.fallback();
    }
    foreign.push(url);
    return route.abort();
  });
  return foreign;
}

/**
 * Opens `pageOrigin` (Belfry's /healthz there, a page to put the element on), loads the element
 * from `scriptOrigin` and shows it with `attributes`, at the top right as a bell usually is.
 * Records on window.belfryEvents every event the element sends.
 */
export async function openInbox(context, { pageOrigin, scriptOrigin = pageOrigin, attributes = {}, before } = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error.stack || `${error.name}: ${error.message} ${JSON.stringify(error)}`)));
  page.errors = errors;
  await page.goto(`${pageOrigin}/healthz`);
  if (before) await page.evaluate(before);
  await page.evaluate(
    ({ attributes, src }) =>
      new Promise((resolve, reject) => {
        document.documentElement.lang = "en";
        document.title = "Inbox test page";
        document.body.innerHTML = "<main><h1>Host page</h1></main>";
        const viewport = Object.assign(document.createElement("meta"), { name: "viewport", content: "width=device-width, initial-scale=1" });
        document.head.append(viewport);
        const inbox = document.createElement("belfry-inbox");
        for (const [name, value] of Object.entries(attributes)) inbox.setAttribute(name, value);
        inbox.style.cssText = "position: fixed; top: 8px; right: 8px";
        window.belfryEvents = [];
        for (const type of ["belfry-status", "belfry-notification", "belfry-unread-change", "belfry-action", "belfry-notification-click"]) {
          inbox.addEventListener(type, (event) => window.belfryEvents.push({ type, detail: JSON.parse(JSON.stringify(event.detail)) }));
        }
        document.body.append(inbox);
        const script = Object.assign(document.createElement("script"), { src });
        script.onload = resolve;
        script.onerror = () => reject(new Error("the element's script did not load"));
        document.head.append(script);
      }),
    { attributes, src: `${scriptOrigin}/static/belfry/belfry.js` },
  );
  return page;
}

/** Runs `fn(shadowRoot, arg)` in the page and returns its result. */
export function inShadow(page, fn, arg) {
  return page.locator("belfry-inbox").evaluate((el, [source, arg]) => new Function(`return (${source})`)()(el.shadowRoot, arg), [
    fn.toString(),
    arg,
  ]);
}

/** Waits until `fn(shadowRoot, arg)` is truthy; if it never is, fails saying what the page showed. */
export async function untilShadow(page, fn, arg) {
  try {
    return await page.waitForFunction(
      ([source, arg]) => {
        const root = document.querySelector("belfry-inbox")?.shadowRoot;
        return root && new Function(`return (${source})`)()(root, arg);
      },
      [fn.toString(), arg],
      WAIT,
    );
  } catch (error) {
    const shown = await page.evaluate(() => ({
      text: [...(document.querySelector("belfry-inbox")?.shadowRoot?.children ?? [])].filter((c) => c.tagName !== "STYLE").map((c) => c.textContent.replace(/\s+/g, " ")),
      events: window.belfryEvents,
    }));
    throw new Error(`${error.message}\nwaiting for ${fn}\nthe page showed ${JSON.stringify(shown)}\nerrors: ${page.errors}`);
  }
}

/** The badge's text, or "" when it is hidden. */
export const badge = (page) => inShadow(page, (root) => (root.querySelector(".badge").hidden ? "" : root.querySelector(".badge").textContent));
export const waitForBadge = (page, text) =>
  untilShadow(page, (root, want) => (root.querySelector(".badge").hidden ? "" : root.querySelector(".badge").textContent) === want, text);

/** The titles listed, in order. */
export const titles = (page) => inShadow(page, (root) => [...root.querySelectorAll("li .title")].map((t) => t.textContent));
export const waitForTitles = (page, wanted) =>
  untilShadow(page, (root, want) => JSON.stringify([...root.querySelectorAll("li .title")].map((t) => t.textContent)) === JSON.stringify(want), wanted);

/** A GraphQL call as a backend (an API key) or a user (their token) makes it. */
export async function graphql(origin, token, query, variables = {}) {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
}

export const PUBLISH = "mutation($input: PublishNotificationInput!) { publishNotification(input: $input) { notificationIds } }";
