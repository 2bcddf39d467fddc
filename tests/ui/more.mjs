// Browser flows of the controllers, images, devices, account and admin
// pages (run.mjs calls `more` once its own flows are done): axe on each
// page, adding an SSH key (a bad one's message beside the field), adding
// and deleting a device through its confirm page, and a user kept out of
// the admin pages.
import { axe, check, signIn } from "./lib.mjs";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHXz8r6X4bFjQ2y5l9hq0w1pA3mQf7c0n9eJ2s8Xk1aB ui@test";

export async function more(browser, base, adminUser, adminPass, user, userPass) {
  const r = `${base}/r`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, base, adminUser, adminPass);

  // Each new page: it opens, and axe finds nothing serious.
  for (const [path, h1] of [
    ["controllers", "Controllers"], ["images", "Images"], ["devices", "Devices"],
    ["devices/add", "Add device"], ["account", "Account"], ["users", "Users"],
    ["zones", "Zones"], ["pools", "Resource pools"], ["settings", "Settings"],
    ["intro", "Welcome to MAAS"], ["tags", "Tags"], ["notifications", "Notifications"],
  ]) {
    const resp = await page.goto(`${r}/${path}`);
    check(resp.status() === 200 && (await page.isVisible(`h1:has-text('${h1}')`)), `${path} opens (${resp.status()})`);
    await axe(page, path);
  }
  // A notification for users: added, then its own page opens from the list.
  await page.goto(`${r}/notifications`);
  await page.fill("#message", "Rack 2 lost its uplink");
  await page.check("#users");
  await page.click("button:has-text('Add notification')");
  await page.waitForURL(/\/r\/notifications$/);
  await page.click("a:has-text('Rack 2 lost its uplink')");
  await page.waitForURL(/\/r\/notification\/\d+/);
  await axe(page, "notification edit");

  await page.goto(`${r}/controllers`);
  await page.click("#regions tbody a");
  check(await page.isVisible("h2:has-text('Region controller')"), "a region's page opens from the list");
  await axe(page, "controller details");

  // An SSH key: a bad one is explained beside the field, a good one is listed.
  await page.goto(`${r}/account`);
  await page.fill("#key", "ssh-ed25519 not-a-key!");
  await page.click("button:has-text('Add SSH key')");
  check((await page.textContent("#key-error"))?.includes("Invalid SSH public key"), "a bad SSH key's error is beside the field");
  check((await page.getAttribute("#key", "aria-invalid")) === "true", "the key field is marked invalid");
  await axe(page, "account with a field error");
  await page.fill("#key", KEY);
  await page.click("button:has-text('Add SSH key')");
  await page.waitForURL(/\/r\/account$/);
  check(await page.isVisible("#sshkeys td:has-text('ui@test')"), "the SSH key is listed");
  // An API key is shown once.
  await page.fill("#name", "browser");
  await page.click("button:has-text('Create API key')");
  const token = (await page.textContent("#apikeys-secret"))?.trim() ?? "";
  check(token.split(":").length === 3, "a new API key is shown");
  await page.goto(`${r}/account`);
  check(!(await page.isVisible("#apikeys-secret")), "the API key is not shown again");

  // A device: added, listed, deleted through the confirm page.
  await page.goto(`${r}/devices/add`);
  await page.fill("#hostname", "uiphone");
  await page.fill("#mac_addresses", "nope");
  await page.click("button:has-text('Save device')");
  check((await page.textContent("#mac_addresses-error"))?.includes("not a valid MAC"), "a bad MAC's error is beside the field");
  await page.fill("#mac_addresses", "52:54:00:ee:00:01");
  await page.click("button:has-text('Save device')");
  await page.waitForURL(/\/r\/device\//);
  await axe(page, "device details");
  await page.click("button:has-text('Delete device')");
  await page.waitForSelector("h1:has-text('Delete device')");
  await axe(page, "delete confirm page");
  await page.click("main button:has-text('Delete device')");
  await page.waitForURL(/\/r\/devices$/);
  check(!(await page.isVisible("td:has-text('uiphone')")), "the device is gone after confirming");
  await ctx.close();

  // A user: no admin pages, no admin forms, no admin POSTs.
  const uctx = await browser.newContext();
  const up = await uctx.newPage();
  await signIn(up, base, user, userPass);
  for (const path of ["users", "settings", "intro", "zone/default", "pool/0"]) {
    const resp = await up.goto(`${r}/${path}`);
    check(resp.status() === 403, `a user gets 403 on ${path} (${resp.status()})`);
  }
  await up.goto(`${r}/images`);
  check(!(await up.isVisible("#upload")), "a user sees no image upload form");
  await up.goto(`${r}/zones`);
  check(!(await up.isVisible("#add-place")), "a user sees no zone form");
  const status = await up.evaluate(async () => {
    const csrf = document.querySelector("input[name=csrf]").value;
    const body = new URLSearchParams({ csrf, username: "mallory", email: "m@x", password: "pw", is_superuser: "1" });
    return (await fetch("/MAAS/r/users/add", { method: "POST", body })).status;
  });
  check(status === 403, `a user cannot add users, even with a valid token (${status})`);
  await uctx.close();
}
