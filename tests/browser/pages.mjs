// The dashboard page and the public verification page in a real headless Chromium (playwright-core).
// Driven by Vigil.EndToEnd.Tests (BrowserTests): it reads the addresses, the demo users and their password from
// the environment, signs in at the provider's login page like a person, prints one "step NAME" line per step to stdout, and waits on stdin for "go" before the
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
const provider = process.env.VIGIL_PROVIDER;
const learner = process.env.VIGIL_LEARNER;
const boardMember = process.env.VIGIL_BOARD_MEMBER;
const password = process.env.VIGIL_PASSWORD;
const sessionId = process.env.VIGIL_SESSION_ID;
const otherSessionId = process.env.VIGIL_OTHER_SESSION_ID;
const shots = process.env.VIGIL_SCREENSHOTS;
const executablePath = process.env.VIGIL_CHROMIUM || "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });

const lines = createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", (l) => { const w = waiting.shift(); if (w) w(l.trim()); });
const nextLine = () => new Promise((resolve) => waiting.push(resolve));
const step = (name) => console.log("step " + name);

// Every address any page asks for or navigates to: none may carry a token (access, ID or refresh token, a JWT).
const urls = new Set();
const TOKEN_IN_URL = [/[?&#](access_token|id_token|refresh_token|token|id_token_hint)=/i, /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./];
function watchUrls(page) {
  const note = (u) => {
    if (urls.has(u)) return;
    urls.add(u);
    console.log("url " + u);
    for (const pattern of TOKEN_IN_URL) if (pattern.test(u)) throw new Error("a token in a URL: " + u);
  };
  page.on("request", (r) => { try { note(r.url()); } catch (e) { tokenInUrl = e; } });
  page.on("framenavigated", (f) => { try { note(f.url()); } catch (e) { tokenInUrl = e; } });
}
let tokenInUrl = null;

async function newPage(width = 1100, height = 760) {
  const p = await browser.newPage({ viewport: { width, height } });
  p.setDefaultTimeout(60000);
  p.on("pageerror", (e) => console.log("pageerror " + e.message));
  watchUrls(p);
  return p;
}

// From the dashboard's "Sign in" to the provider's login page, the password, and back to the dashboard.
async function signIn(p, user, shot) {
  await p.goto(base + "/dashboard");
  await p.waitForSelector("#signin:not([hidden])");
  await p.click("#signin-link");
  await p.waitForURL((u) => u.toString().startsWith(provider + "/account/login"));
  await p.fill("input[name=username]", user);
  await p.fill("input[name=password]", password);
  if (shot) await p.screenshot({ path: join(shots, shot), fullPage: true });
  await p.click("button[type=submit]");
  await p.waitForURL((u) => u.toString().startsWith(base + "/dashboard"));
  await p.waitForSelector("#account:not([hidden])");
}

const browser = await chromium.launch({
  timeout: 60000,
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let page;
try {
  // Not signed in: the sign-in link, never someone's data; the API refuses.
  const stranger = await newPage();
  await stranger.goto(base + "/dashboard");
  await stranger.waitForSelector("#signin:not([hidden])");
  if (await stranger.locator("li.entry").count() !== 0) throw new Error("entries shown without a session");
  const anonymousApi = await stranger.evaluate(() => fetch("/api/dashboard").then((r) => r.status));
  if (anonymousApi !== 401) throw new Error("the API answered " + anonymousApi + " without a session");
  await stranger.screenshot({ path: join(shots, "dashboard-signed-out.png"), fullPage: true });
  step("signed-out");

  // The learner signs in with her password at the provider.
  page = await newPage();
  await signIn(page, learner, "provider-login.png");
  step("provider-login");
  const entry = page.locator(`li.entry[data-session-id="${sessionId}"]`);
  await entry.waitFor();
  await page.waitForFunction((id) => document.querySelector(`li.entry[data-session-id="${id}"]`)?.dataset.status === "RESULT_STATUS_CERTIFIED", sessionId, { timeout: 60000 });
  if (await page.locator(`li.entry[data-session-id="${otherSessionId}"]`).count() !== 0) throw new Error("another learner's result is shown");
  const who = (await page.textContent("#who")).trim();
  if (!who.includes("Ada")) throw new Error("the page says " + who);
  const code = (await entry.locator(".verification-code").textContent()).trim();
  if (!code) throw new Error("no verification code shown");
  await page.waitForSelector("#live[data-state=live]");
  const stored = await page.evaluate(() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.cookie);
  if (/eyJ/.test(stored)) throw new Error("a token is readable by the page's script");
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

  // Sign-out: here and at the provider, back to the signed-out page; the session cookie no longer works.
  await page.click("#signout");
  await page.waitForURL((u) => u.toString().startsWith(base + "/dashboard"));
  await page.waitForSelector("#signin:not([hidden])");
  const afterApi = await page.evaluate(() => fetch("/api/me").then((r) => r.status));
  if (afterApi !== 401) throw new Error("the API answered " + afterApi + " after sign-out");
  // Signed out at the provider too: "Sign in" asks for the password again.
  await page.click("#signin-link");
  await page.waitForURL((u) => u.toString().startsWith(provider + "/account/login"));
  step("signed-out-again");

  // A board member signs in: the pages have no board view; she is told her account has no learner dashboard.
  const member = await newPage();
  await signIn(member, boardMember, null);
  const memberName = (await member.textContent("#who")).trim();
  if (!memberName.includes("Bea")) throw new Error("the page says " + memberName);
  await member.waitForSelector("#no-dashboard:not([hidden])");
  if (await member.locator("li.entry").count() !== 0) throw new Error("the board member sees a learner's dashboard");
  await member.screenshot({ path: join(shots, "dashboard-board-member.png"), fullPage: true });
  step("board-signed-in");

  // The public verification page, without any session.
  const anonymous = await newPage(1100, 640);
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
  if (tokenInUrl) throw tokenInUrl;
  console.log("done");
} catch (e) {
  console.log("error " + (e && e.stack || e));
  if (page) await page.screenshot({ path: join(shots, "failure.png"), fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  lines.close();
}
