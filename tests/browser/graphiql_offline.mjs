// GraphiQL opens and runs queries with nothing but the server it came from.
//
//   node graphiql_offline.mjs http://127.0.0.1:PORT [screenshot.png]
//
// Debian's chromium (CHROMIUM, default /usr/bin/chromium), headless, fresh profile. Every request
// to another origin is aborted and recorded, and so is any CSP violation, console error or page
// error: there must be none. Then, as a developer would: the first tab (Home) runs and shows the
// demo catalogue's hero; the Player tab runs on the hero's ID that the page looked up; a dialog
// opens (its inline style is the one the CSP allows by hash); Register runs, and SaveProgress then
// runs signed in with its token. Exit status 0 when all of that held;
// the last line printed is a JSON summary either way.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const HERO_TITLE = "The Great Migration"; // models/demo.py HERO_TITLE
const TIMEOUT_MS = 30_000;
const SCROLLBAR_WARNING = "react-remove-scroll-bar: cannot calculate scrollbar size";

const [base, screenshot] = process.argv.slice(2);
if (!base) {
  console.error("usage: node graphiql_offline.mjs http://127.0.0.1:PORT [screenshot.png]");
  process.exit(2);
}
const origin = new URL(base).origin;

const summary = { origin, blocked: [], cspViolations: [], consoleErrors: [], pageErrors: [], steps: [] };
const failures = [];

function check(condition, message) {
  if (!condition) failures.push(message);
  return condition;
}

const profile = mkdtempSync(join(tmpdir(), "videolib-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
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
  viewport: { width: 1400, height: 900 },
  timeout: TIMEOUT_MS,
});

try {
  // The network is the local server: anything else is refused, and recorded as a failure.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    summary.blocked.push(url);
    return route.abort("blockedbyclient");
  });
  context.on("websocket", (ws) => summary.blocked.push(ws.url()));
  // Runs through DevTools, so the page's CSP does not apply to it.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
    });
  });

  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("console", (msg) => {
    // GraphiQL's bundle keeps this development warning; strawberry's page (the same body style) logs it too.
    if (msg.type() !== "error" || msg.text().startsWith(SCROLLBAR_WARNING)) return;
    (msg.text().startsWith("CSP violation") ? summary.cspViolations : summary.consoleErrors).push(msg.text());
  });
  page.on("pageerror", (err) => summary.pageErrors.push(String(err)));

  const response = await page.goto(`${origin}/graphql`, { waitUntil: "load" });
  check(response.status() === 200, `GET /graphql answered ${response.status()}`);
  const csp = (await response.allHeaders())["content-security-policy"] || "";
  summary.csp = csp;
  check(csp.includes("script-src 'self'"), `the page has no strict CSP: ${JSON.stringify(csp)}`);

  // The editor is up once the schema is in: the docs button is enabled only then.
  await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
  const tabs = await page.locator(".graphiql-tab").allInnerTexts();
  summary.tabs = tabs.map((t) => t.trim());
  check(
    ["Home", "Category", "Player", "Register", "Login", "SaveProgress", "React"].every((t) => summary.tabs.includes(t)),
    `missing example tabs: ${JSON.stringify(summary.tabs)}`,
  );

  const editorValue = (selector) =>
    page.evaluate((s) => document.querySelector(`${s} .CodeMirror`).CodeMirror.getValue(), selector);

  // Runs the tab's operation with the play button; the answer as GraphiQL shows it, parsed.
  async function run(tabTitle, attempt = 1) {
    await page.locator(".graphiql-tab-button", { hasText: new RegExp(`^${tabTitle}$`) }).click();
    await page.waitForFunction(
      (name) => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue().includes(name),
      ` ${tabTitle}`,
    );
    // GraphiQL re-reads the operation name from the editor after a debounce: a click straight
    // after a tab switch can send the previous tab's name (as a quick human could).
    await page.waitForTimeout(500);
    const before = await editorValue(".graphiql-response");
    await page.locator(".graphiql-execute-button").click();
    await page.waitForFunction(
      (previous) => {
        const text = document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue();
        return text.trim() !== "" && text !== previous;
      },
      before,
    );
    const text = await editorValue(".graphiql-response");
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsed: text };
    }
    const stale = (body.errors || []).some((e) => e.message.startsWith("Unknown operation named"));
    if (stale && attempt === 1) {
      // The browser logs that 400 answer as a console error: it is this retry's, not a fault.
      summary.consoleErrors = summary.consoleErrors.filter((m) => !m.includes("status of 400"));
      summary.steps.push({ tab: tabTitle, retried: "GraphiQL sent the previous tab's operation name" });
      return run(tabTitle, 2);
    }
    summary.steps.push({ tab: tabTitle, errors: body.errors || null });
    check(!body.errors && body.data, `${tabTitle} answered ${text.slice(0, 500)}`);
    return body.data || {};
  }

  const home = await run("Home");
  check(home.heroVideo?.title === HERO_TITLE, `Home's hero is ${JSON.stringify(home.heroVideo?.title)}`);
  check(home.categories?.length === 5, `Home lists ${home.categories?.length} categories, not 5`);
  if (screenshot) await page.screenshot({ path: screenshot });

  const player = await run("Player");
  check(player.video?.id === home.heroVideo?.id, "Player did not open on the hero video's ID");
  check(player.video?.category?.videos?.edges?.length > 0, "Player shows nothing more from the category");

  // A dialog writes the one inline style the CSP allows (by hash): react-remove-scroll's lock.
  await page.locator('[aria-label="Open short keys dialog"]').click();
  await page.locator('[role="dialog"]').waitFor();
  summary.dialogStyles = await page.evaluate(() => document.querySelectorAll("style").length);
  await page.keyboard.press("Escape");
  await page.locator('[role="dialog"]').waitFor({ state: "detached" });

  const register = await run("Register");
  check(typeof register.register?.token === "string", "Register gave no token");
  const progress = await run("SaveProgress");
  check(progress.saveProgress?.lastPosition === 120, `SaveProgress answered ${JSON.stringify(progress)}`);
} catch (err) {
  failures.push(`the run stopped: ${err.stack || err}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

check(summary.blocked.length === 0, `requests left the local server: ${summary.blocked.join(", ")}`);
check(summary.cspViolations.length === 0, `CSP violations: ${summary.cspViolations.join(" | ")}`);
check(summary.consoleErrors.length === 0, `console errors: ${summary.consoleErrors.join(" | ")}`);
check(summary.pageErrors.length === 0, `page errors: ${summary.pageErrors.join(" | ")}`);
summary.failures = failures;
console.log(JSON.stringify(summary));
process.exit(failures.length ? 1 : 0);
