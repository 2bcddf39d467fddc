// The web UI's machine list at fleet size, in Chromium: `node bench.mjs
// <base …/MAAS> <user> <password> <api key>`. Prints a table and the
// RESULT line: list_usable_ms (navigation start → DOM ready with the
// deferred scripts run: the list can be used), first contentful paint,
// list_kb (bytes transferred for the list page, warm static cache), and
// live_update_ms (an API status change → the row shows it, over SSE;
// median of 5).
import { launch, signIn } from "../../ui/lib.mjs";

const [base, user, pass, key] = process.argv.slice(2);
const [ck, tk, ts] = key.split(":");
const oauth = () =>
  `OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="${ck}", ` +
  `oauth_token="${tk}", oauth_signature="&${ts}", oauth_nonce="${Math.random()}", oauth_timestamp="${Math.floor(Date.now() / 1000)}"`;
const api = (path, op) =>
  fetch(`${base}/api/2.0/${path}?op=${op}`, { method: "POST", headers: { authorization: oauth() } });
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const browser = await launch();
const page = await (await browser.newContext()).newPage();
await signIn(page, base, user, pass);
const usable = [];
const fcp = [];
const kb = [];
for (let i = 0; i < 5; i++) {
  await page.goto(`${base}/r/machines?page=${1 + i}`, { waitUntil: "load" });
  await page
    .waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0, null, { timeout: 2000 })
    .catch(() => {});
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    const res = performance.getEntriesByType("resource").reduce((s, r) => s + r.transferSize, 0);
    return { ready: nav.domContentLoadedEventEnd, fcp: paint ? paint.startTime : 0, bytes: nav.transferSize + res };
  });
  usable.push(m.ready);
  fcp.push(m.fcp);
  kb.push(m.bytes / 1024);
}
const rows = await page.locator("tbody tr[data-live]").count();
const sid = await page.getAttribute("tbody tr[data-live]", "data-live");
await page.waitForTimeout(300);
const live = [];
for (let i = 0; i < 5; i++) {
  const [op, want] = i % 2 === 0 ? ["mark_broken", "Broken"] : ["mark_fixed", "Ready"];
  const t0 = Date.now();
  const r = await api(`machines/${sid}/`, op);
  if (!r.ok) throw new Error(`${op}: ${r.status} ${await r.text()}`);
  await page.waitForFunction(
    ([s, w]) => document.querySelector(`#m-${s} .status-name`)?.textContent === w,
    [sid, want],
    { timeout: 15000 },
  );
  live.push(Date.now() - t0);
}
await browser.close();
const f = (x) => x.toFixed(0);
console.log(`rows per page            ${rows}`);
console.log(`list usable (ms, median) ${f(median(usable))}   runs: ${usable.map(f).join(" ")}`);
console.log(`first contentful paint   ${f(median(fcp))} ms`);
console.log(`list transferred (KB)    ${median(kb).toFixed(1)}`);
console.log(`live update (ms, median) ${f(median(live))}   runs: ${live.join(" ")}`);
console.log(`RESULT list_usable_ms=${f(median(usable))} fcp_ms=${f(median(fcp))} live_update_ms=${f(median(live))} list_kb=${median(kb).toFixed(1)}`);
