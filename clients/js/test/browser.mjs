// Chromium for the suite's browser tests: the system's browser (Debian's chromium package)
// driven by playwright-core, which downloads none of its own. Background networking is off,
// since this browser should make no request the page does not.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.BELFRY_TEST_CHROMIUM || "/usr/bin/chromium";

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

// Every request a page makes to a host other than the server under test is refused and
// recorded: the test then asserts there were none.
export async function loopbackOnly(context, origin) {
  const foreign = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) {
      return route.continue();
    }
    foreign.push(url);
    return route.abort();
  });
  return foreign;
}
