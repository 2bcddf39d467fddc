// Helpers for the web UI's browser tests: Chromium from Debian, axe checks,
// and the line protocol with the Rust test that started the region
// (`NEED <what> <args>` on stdout, one answer line on stdin).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

const lines = createInterface({ input: process.stdin });
const waiting = [];
const queued = [];
lines.on("line", (l) => (waiting.length ? waiting.shift()(l) : queued.push(l)));

/** Ask the Rust side to do something; resolves with its answer line. */
export function need(what, ...args) {
  process.stdout.write(`NEED ${what} ${args.join(" ")}\n`);
  if (queued.length) return Promise.resolve(queued.shift());
  return new Promise((res) => waiting.push(res));
}

let failures = 0;
export function check(ok, what) {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}`);
  }
}
export function failed() {
  return failures;
}

/** No serious or critical axe violations on the page as it is now. */
export async function axe(page, what) {
  await page.addScriptTag({ content: AXE });
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { resultTypes: ["violations"] });
    return res.violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
      where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "),
    }));
  });
  const bad = r.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) console.log(`     axe ${v.impact} ${v.id} (${v.nodes}): ${v.help} at ${v.where}`);
  check(bad.length === 0, `axe: no serious/critical violations on ${what}`);
}

/** Sign in with the keyboard only. */
export async function signIn(page, base, user, pass) {
  await page.goto(`${base}/r/login`);
  await page.focus("#username");
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(pass);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/MAAS\/r\/machines/);
}
