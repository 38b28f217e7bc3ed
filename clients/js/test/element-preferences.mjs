// The preferences panel of <belfry-inbox>, driven in Chromium and checked against the API.
// argv[2] is Belfry's origin, argv[3] a JSON object {token, category (one with a tenant
// default), critical (a critical category)}. Prints what the panel showed and what the API
// held after each change.
import { launch } from "./browser.mjs";
import { graphql, inShadow, onlyTo, openInbox, untilShadow } from "./inbox-page.mjs";

const [origin, configJson] = process.argv.slice(2);
const { token, category, critical } = JSON.parse(configJson);
const seen = {};

const mine = async () => {
  const data = await graphql(origin, token, "{ preferences(scope: USER) { category channels { channel enabled } } }");
  const entry = data.preferences.find((p) => p.category === category);
  return Object.fromEntries((entry?.channels ?? []).filter((c) => c.enabled !== null).map((c) => [c.channel, c.enabled]));
};

/** Each shown channel of `key`: checked, disabled, and its hint. */
const fieldset = (page, key) =>
  inShadow(
    page,
    (root, key) => {
      const set = [...root.querySelectorAll("fieldset")].find((f) => f.dataset.category === key);
      return {
        legend: set.querySelector("legend").textContent,
        channels: Object.fromEntries(
          [...set.querySelectorAll("label")].map((label) => {
            const box = label.querySelector("input");
            return [box.dataset.channel, { checked: box.checked, disabled: box.disabled, hint: label.querySelector(".hint")?.textContent ?? null }];
          }),
        ),
        reset: Boolean(set.querySelector("button")),
      };
    },
    key,
  );

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const foreign = await onlyTo(context, [origin]);
  const page = await openInbox(context, { pageOrigin: origin, attributes: { token } });
  await page.locator("belfry-inbox .bell").click();
  await page.getByRole("button", { name: "Preferences" }).click();
  await untilShadow(page, (root, key) => [...root.querySelectorAll("fieldset")].some((f) => f.dataset.category === key), category);
  seen.pressed = await page.getByRole("button", { name: "Preferences" }).getAttribute("aria-pressed");
  seen.before = await fieldset(page, category);
  seen.critical = await fieldset(page, critical);

  // Switching SMS on is the user's own choice, stored by the API.
  const sms = page.getByRole("group", { name: `Channels for ${seen.before.legend}` }).getByRole("checkbox", { name: /SMS/ });
  await sms.check();
  await untilShadow(page, (root, key) => [...root.querySelectorAll("fieldset")].find((f) => f.dataset.category === key)?.querySelector("button"), category);
  seen.afterSms = await fieldset(page, category);
  seen.apiAfterSms = await mine();
  seen.focusAfterSms = await inShadow(page, (root) => root.activeElement?.dataset.channel ?? null);

  // "Use defaults" hands the category back to the tenant and the catalogue.
  await page.getByRole("button", { name: `Use defaults: ${seen.before.legend}` }).click();
  await untilShadow(page, (root, key) => !([...root.querySelectorAll("fieldset")].find((f) => f.dataset.category === key)?.querySelector("button")), category);
  seen.afterReset = await fieldset(page, category);
  seen.apiAfterReset = await mine();

  // Quiet hours.
  await page.getByRole("checkbox", { name: "Hold email and SMS during quiet hours" }).check();
  await page.getByLabel("From", { exact: true }).fill("22:30");
  await page.getByLabel("To", { exact: true }).fill("06:45");
  await page.getByRole("button", { name: "Save" }).click();
  await untilShadow(page, (root) => root.querySelector(".quiet [role=status]").textContent === "Saved");
  seen.quietHours = (await graphql(origin, token, "{ viewer { quietHours { start end enabled } } }")).viewer.quietHours;

  // Back to the list.
  await page.getByRole("button", { name: "Preferences" }).click();
  seen.listBack = await inShadow(page, (root) => !root.querySelector(".list").hidden && root.querySelector(".prefs").hidden);
  seen.errors = page.errors;
  console.log(JSON.stringify({ foreign, ...seen }));
} finally {
  await browser.close();
}
