// Opens GraphiQL at argv[2] with no network beyond the server, runs a query typed into it with
// the token argv[3], and screenshots the page to argv[4]. Prints what it saw as JSON.
import { launch, loopbackOnly } from "./browser.mjs";

const [url, token, screenshot] = process.argv.slice(2);
const browser = await launch();
try {
  const context = await browser.newContext();
  const foreign = await loopbackOnly(context, new URL(url).origin);
  const page = await context.newPage();
  const failed = [];
  page.on("requestfailed", (request) => failed.push(request.url()));
  await page.goto(url);
  await page.locator(".graphiql-query-editor .CodeMirror").waitFor({ timeout: 30000 });
  await page.getByRole("button", { name: "Headers", exact: true }).click();
  // The editors are CodeMirror 5 instances: set the query and the headers through them.
  await page.evaluate(
    ({ query, headers }) => {
      document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(query);
      // The headers editor, shown by the click above, is the last one visible.
      const shown = document.querySelectorAll(".graphiql-editor:not(.hidden) .CodeMirror");
      shown[shown.length - 1].CodeMirror.setValue(headers);
    },
    { query: "{ viewer { __typename } }", headers: JSON.stringify({ Authorization: `Bearer ${token}` }) },
  );
  await page.locator(".graphiql-execute-button").click();
  const result = page.locator(".result-window .CodeMirror");
  await page.waitForFunction(
    () => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue().includes("data"),
    null,
    { timeout: 30000 },
  );
  const response = await result.evaluate((element) => element.CodeMirror.getValue());
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ foreign, failed, response: JSON.parse(response) }));
} finally {
  await browser.close();
}
