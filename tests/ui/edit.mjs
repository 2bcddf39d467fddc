// Browser flow of the machine page's interface and storage edits (run.mjs
// calls `edit` last): a static address outside the subnet explained beside
// the field, then one inside it linked and listed; a partition added and
// listed; axe on the machine page with its edit forms and with an error.
import { axe, check, need, signIn } from "./lib.mjs";

export async function edit(browser, base, adminUser, adminPass) {
  const r = `${base}/r`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, base, adminUser, adminPass);
  // The Rust side makes a Ready machine with a disk, its eth0 on a subnet.
  const [sid, subnet, disk] = (await need("editable", "10.88.0.0/24")).split(" ");
  await page.goto(`${r}/machine/${sid}`);
  check(await page.isVisible("#link-form"), "the machine page offers to link a subnet");
  await axe(page, "machine page with edit forms");

  // Link a static address: a wrong one first, its error beside the field.
  await page.selectOption("#link_iface", { label: "eth0" });
  await page.selectOption("#subnet", subnet);
  await page.selectOption("#mode", "static");
  await page.fill("#ip_address", "10.89.0.40");
  await page.click("button:has-text('Link subnet')");
  const err = await page.textContent("#ip_address-error");
  check(err && err.includes("not in the given subnet"), `a wrong IP's error is beside the field (${err})`);
  check((await page.getAttribute("#ip_address", "aria-invalid")) === "true", "the IP field is marked invalid");
  await axe(page, "machine page with a link error");
  await page.fill("#ip_address", "10.88.0.40");
  await page.press("#ip_address", "Enter");
  await page.waitForURL(/#interfaces$/);
  check((await page.textContent("#iface-table")).includes("10.88.0.40"), "the static link is listed on eth0");

  // Add a 5 GB partition to the disk; it is listed under it.
  await page.selectOption("#part_disk", disk);
  await page.fill("#size", "5G");
  await page.click("button:has-text('Add partition')");
  await page.waitForURL(/#storage$/);
  const rows = await page.locator("#disk-table tr.partition").allTextContents();
  check(rows.length === 1 && rows[0].includes("5.0 GB"), `the partition is listed (${rows.join(" | ")})`);
  await axe(page, "machine page with a partition");
  await ctx.close();
}
