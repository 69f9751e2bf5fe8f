// The dashboard page and the public verification page in a real headless Chromium (playwright-core).
// Driven by Vigil.EndToEnd.Tests (BrowserTests): it reads the addresses and the learner's token from the
// environment, prints one "step NAME" line per step to stdout, and waits on stdin for "go" before the
// steps that need the test to change something (the board's withdrawal). Screenshots: $VIGIL_SCREENSHOTS.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { mkdirSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// playwright-core is a dev-dependency of tools/ (package.json there, installed by npm ci).
const tools = process.env.VIGIL_TOOLS || resolve(dirname(fileURLToPath(import.meta.url)), "../../tools");
const { chromium } = createRequire(join(tools, "package.json"))("playwright-core");

const base = process.env.VIGIL_PAGES;
const token = process.env.VIGIL_LEARNER_TOKEN;
const sessionId = process.env.VIGIL_SESSION_ID;
const shots = process.env.VIGIL_SCREENSHOTS;
const executablePath = process.env.VIGIL_CHROMIUM || "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });

const lines = createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", (l) => { const w = waiting.shift(); if (w) w(l.trim()); });
const nextLine = () => new Promise((resolve) => waiting.push(resolve));
const step = (name) => console.log("step " + name);

const browser = await chromium.launch({
  timeout: 60000,
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let page;
try {
  // Without a token: the sign-in form, never someone's data.
  const stranger = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  stranger.setDefaultTimeout(60000);
  await stranger.goto(base + "/dashboard");
  await stranger.waitForSelector("#signin:not([hidden])");
  if (await stranger.locator("li.entry").count() !== 0) throw new Error("entries shown without a token");
  await stranger.screenshot({ path: join(shots, "dashboard-signed-out.png"), fullPage: true });
  step("signed-out");

  // With the learner's token (in the fragment: never sent to a server, never logged).
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.setDefaultTimeout(60000);
  page.on("pageerror", (e) => console.log("pageerror " + e.message));
  await page.goto(base + "/dashboard#token=" + encodeURIComponent(token));
  const entry = page.locator(`li.entry[data-session-id="${sessionId}"]`);
  await entry.waitFor();
  await page.waitForFunction((id) => document.querySelector(`li.entry[data-session-id="${id}"]`)?.dataset.status === "RESULT_STATUS_CERTIFIED", sessionId, { timeout: 60000 });
  if (page.url().includes("token=")) throw new Error("the token stayed in the address bar");
  const code = (await entry.locator(".verification-code").textContent()).trim();
  if (!code) throw new Error("no verification code shown");
  await page.waitForSelector("#live[data-state=live]");
  await page.screenshot({ path: join(shots, "dashboard-certified.png"), fullPage: true });
  console.log("code " + code);
  step("certified");

  // The board withdraws the certificate: the page must change by itself, without a reload.
  const go = nextLine();
  step("ready-for-withdrawal");
  await go;
  await page.waitForFunction((id) => document.querySelector(`li.entry[data-session-id="${id}"]`)?.dataset.status === "RESULT_STATUS_WITHDRAWN", sessionId, { timeout: 60000 });
  const reason = (await entry.locator(".reason").textContent()).trim();
  if (!reason) throw new Error("the withdrawal shows no reason");
  await page.screenshot({ path: join(shots, "dashboard-withdrawn-live.png"), fullPage: true });
  step("withdrawn-live");

  // The public verification page, without any token.
  const anonymous = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  anonymous.setDefaultTimeout(60000);
  await anonymous.goto(base + "/verify?code=" + encodeURIComponent(code));
  await anonymous.waitForSelector("#result:not([hidden])");
  const verdict = await anonymous.getAttribute("#result", "data-result");
  if (verdict !== "VERIFICATION_RESULT_WITHDRAWN") throw new Error("verification page says " + verdict);
  await anonymous.screenshot({ path: join(shots, "verify-withdrawn.png"), fullPage: true });
  step("verify-withdrawn");

  await anonymous.fill("#code", "NO-SUCH-CODE");
  await anonymous.click("button[type=submit]");
  await anonymous.waitForFunction(() => document.querySelector("#result")?.dataset.result === "VERIFICATION_RESULT_UNKNOWN");
  await anonymous.screenshot({ path: join(shots, "verify-unknown.png"), fullPage: true });
  step("verify-unknown");
  console.log("done");
} catch (e) {
  console.log("error " + (e && e.stack || e));
  if (page) await page.screenshot({ path: join(shots, "failure.png"), fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  lines.close();
}
