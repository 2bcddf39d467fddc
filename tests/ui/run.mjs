// Browser tests of the web UI: `node run.mjs <base URL …/MAAS> <admin> <pw>
// <user> <pw>`. Started by crates/region/tests/ui.rs, which answers the
// `NEED …` lines (machine signals through the metadata API). Exit status:
// the number of failed checks (0 = all passed).
import http from "node:http";
import { axe, check, failed, launch, need, signIn } from "./lib.mjs";

const [base, adminUser, adminPass, user, userPass] = process.argv.slice(2);
if (!userPass) {
  console.error("usage: node run.mjs <base URL> <admin> <password> <user> <password>");
  process.exit(2);
}
const r = `${base}/r`;
const browser = await launch();
const t0 = Date.now();
try {
  const admin = await browser.newContext();
  const page = await admin.newPage();

  // Sign in (keyboard only), the login page's accessibility.
  await page.goto(`${r}/machines`);
  check(page.url().includes("/r/login"), "signed out: the list redirects to sign-in");
  await axe(page, "sign-in");
  await page.fill("#username", adminUser);
  await page.fill("#password", "wrong");
  await page.press("#password", "Enter");
  check((await page.textContent("#login-error"))?.includes("Invalid"), "a wrong password is refused");
  await signIn(page, base, adminUser, adminPass);
  check(await page.isVisible("h1:has-text('Machines')"), "signed in: the machine list");
  await axe(page, "machine list");
  const cookie = (await admin.cookies()).find((c) => c.name === "maas_ui_session");
  check(cookie && cookie.httpOnly && cookie.sameSite === "Lax" && cookie.path === "/MAAS/", "session cookie: HttpOnly, SameSite=Lax, Path=/MAAS/");

  // Focus is visible.
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(outline && outline !== "none", `focus is visible (outline ${outline})`);

  // A second tab keeps the machine list open while the machine is added.
  const listTab = await admin.newPage();
  await listTab.goto(`${r}/machines`);
  await listTab.waitForSelector("body[data-live-open]");

  // Add a machine; the power fields follow the power type.
  await page.goto(`${r}/machines/add`);
  await axe(page, "add machine");
  await page.selectOption("#power_type", "ipmi");
  check(await page.isVisible("#pp_ipmi_power_address"), "IPMI fields shown for IPMI");
  check(!(await page.isVisible("#pp_redfish_power_address")), "Redfish fields hidden for IPMI");
  await page.selectOption("#power_type", "manual");
  check(!(await page.isVisible("#pp_ipmi_power_address")), "IPMI fields hidden for manual");
  await page.fill("#hostname", "bad name");
  await page.fill("#mac_addresses", "52:54:00:aa:bb:01");
  await page.uncheck("#commission");
  await page.click("button:has-text('Save machine')");
  check((await page.textContent("#hostname-error"))?.includes("not a valid hostname"), "a bad hostname's error is beside the field");
  await page.fill("#hostname", "uitest1");
  await page.uncheck("#commission");
  await page.press("#hostname", "Enter");
  await page.waitForURL(/\/r\/machine\//);
  const sid = page.url().split("/").pop().split("#")[0];
  check(/^[a-z0-9]{6}$/.test(sid), `added machine ${sid}`);
  await axe(page, "machine details");
  await listTab.waitForSelector("#added-note:not([hidden])", { timeout: 5000 }).catch(() => {});
  check((await listTab.textContent("#added-note"))?.includes("1 machine was added"), "the open list says a machine was added");
  await listTab.close();

  // Commission it (confirm step), keyboard only.
  await page.selectOption("#one-action", "commission");
  await page.focus("#one-action");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:has-text('Commission 1 machine')");
  await axe(page, "confirm page");
  await page.click("button:has-text('Commission')");
  check(await page.isVisible("h1:has-text('1 done')"), "commissioning started");

  // The list shows it Commissioning, then Ready without a reload.
  await page.goto(`${r}/machines?q=uitest1`);
  const status = `#m-${sid} .status-name`;
  check((await page.textContent(status)) === "Commissioning", "the list shows Commissioning");
  await page.evaluate(() => (window.__noReload = true));
  await page.waitForFunction(() => document.querySelectorAll("[data-live]").length > 0);
  await page.waitForTimeout(300); // the event stream is open
  await need("ready", sid);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "Ready", status, { timeout: 10000 });
  check(await page.evaluate(() => window.__noReload === true), "Ready shown live (same document, no reload)");

  // Search syntax: status:ready finds it, status:deployed does not.
  await page.goto(`${r}/machines?q=${encodeURIComponent("status:ready uitest")}`);
  check(await page.isVisible(`#m-${sid}`), "search status:ready finds it");
  await page.goto(`${r}/machines?q=${encodeURIComponent("status:deployed uitest")}`);
  check(!(await page.isVisible(`#m-${sid}`)), "search status:deployed does not");
  await page.goto(`${r}/machines?q=${encodeURIComponent("colour:red")}`);
  check((await page.textContent("#q-error"))?.includes("Unknown filter"), "an unknown search key is explained");

  // Typing in the search box filters in place (htmx), and the URL follows.
  await page.goto(`${r}/machines`);
  await page.evaluate(() => (window.__sameDoc = true));
  await page.fill("#q", "status:ready uitest1");
  await page.waitForFunction(() => location.search.includes("uitest1"), null, { timeout: 5000 });
  await page.waitForSelector(`#m-${sid}`);
  check(await page.evaluate(() => window.__sameDoc === true), "the search box filters without a page load");

  // Deploy with user data from the list (checkbox + bulk action).
  await page.goto(`${r}/machines?q=uitest1`);
  await page.check(`#m-${sid} input[name=sid]`);
  await page.selectOption("#action", "deploy");
  await page.click("button:has-text('Apply')");
  await page.waitForSelector("#user_data");
  const userData = "#cloud-config\nruncmd: [echo from-the-ui]\n";
  await page.fill("#user_data", userData);
  await page.click("button:has-text('Deploy')");
  check(await page.isVisible("h1:has-text('1 done')"), "deployment started");
  const got = await need("userdata", sid);
  check(Buffer.from(got, "base64").toString() === userData, "the machine receives the user data typed in the UI");

  // A non-admin: no admin pages, not another user's machine, no admin actions.
  const other = await browser.newContext();
  const up = await other.newPage();
  await signIn(up, base, user, userPass);
  await axe(up, "machine list (user)");
  check(!(await up.isVisible("a[href='/MAAS/r/users']")), "a user's navigation has no Users");
  let resp = await up.goto(`${r}/users`);
  check(resp.status() === 403, `a user gets 403 on Users (${resp.status()})`);
  resp = await up.goto(`${r}/settings`);
  check(resp.status() === 403, `a user gets 403 on Settings (${resp.status()})`);
  resp = await up.goto(`${r}/machine/${sid}`);
  check(resp.status() === 404 || resp.status() === 403, `a user cannot open the admin's machine (${resp.status()})`);
  await up.goto(`${r}/machines`);
  check(!(await up.isVisible(`#m-${sid}`)), "the admin's machine is not in the user's list");
  check(!(await up.isVisible("#action option[value=delete]")), "a user's action menu has no Delete");
  await other.close();

  // Release (confirm step with erase options).
  await page.goto(`${r}/machine/${sid}`);
  await page.selectOption("#one-action", "release");
  await page.click("button:has-text('Go')");
  check(await page.isVisible("input[name=erase]"), "release offers erase options");
  await page.click("button:has-text('Release')");
  check(await page.isVisible("h1:has-text('1 done')"), "release started");

  await (await import("./networks.mjs")).networks(page, r);
  // A cross-site form POST is refused.
  const evil = http.createServer((_, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><title>x</title><form method="post" action="${r}/machines/action">
      <input name="action" value="lock"><input name="sid" value="${sid}"><input name="csrf" value="guess"></form>
      <script>document.forms[0].submit()</script>`);
  });
  await new Promise((res) => evil.listen(0, "127.0.0.1", res));
  const evilUrl = `http://127.0.0.1:${evil.address().port}/`;
  const [xresp] = await Promise.all([
    page.waitForResponse((x) => x.url().endsWith("/machines/action")),
    page.goto(evilUrl),
  ]);
  check(xresp.status() === 403, `a cross-site form POST is refused (${xresp.status()})`);
  evil.close();

  // Sign-out ends the session: the old cookie no longer works.
  await page.goto(`${r}/machines`);
  await page.click("button:has-text('Sign out')");
  await page.waitForURL(/\/r\/login/);
  const stale = await fetch(`${r}/machines`, {
    headers: { cookie: `maas_ui_session=${cookie.value}` },
    redirect: "manual",
  });
  check(stale.status === 303 && stale.headers.get("location").includes("/r/login"), `the old session is gone (${stale.status})`);
  await admin.close();
  await (await import("./more.mjs")).more(browser, base, adminUser, adminPass, user, userPass);
  await (await import("./edit.mjs")).edit(browser, base, adminUser, adminPass);
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  process.exitCode = 100;
} finally {
  await browser.close();
}
console.log(`${failed()} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (!process.exitCode) process.exitCode = Math.min(failed(), 99);
process.stdin.destroy();
