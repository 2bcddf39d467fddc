// Screenshots of the main pages for docs/ui/: `node screenshots.mjs <base
// URL …/MAAS> <admin> <password> [out dir]`. Run by tests/ui/screenshots
// (which starts a region with a few machines); any region works.
import { mkdirSync } from "node:fs";
import { launch, signIn } from "./lib.mjs";

const [base, user, pass, out = "../../docs/ui"] = process.argv.slice(2);
if (!pass) {
  console.error("usage: node screenshots.mjs <base URL> <admin> <password> [out dir]");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const browser = await launch();
const ctx = await browser.newContext({ viewport: { width: 1400, height: 820 } });
const page = await ctx.newPage();
const shot = async (name) => {
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${out}/${name}.png`);
};
await page.goto(`${base}/r/login`);
await shot("login");
await signIn(page, base, user, pass);
await shot("machines");
await page.goto(`${base}/r/machines?group=status`);
await shot("machines-grouped");
const first = await page.getAttribute("tbody tr[data-live]", "data-live");
if (first) {
  await page.goto(`${base}/r/machine/${first}`);
  await shot("machine");
}
await page.goto(`${base}/r/machines/add`);
await page.selectOption("#power_type", "ipmi");
await shot("add-machine");
await page.goto(`${base}/r/subnets`);
await shot("subnets");
const subnet = await page.getAttribute("a[href^='/MAAS/r/subnet/']", "href");
if (subnet) {
  await page.goto(`${base}${subnet.replace("/MAAS", "")}`);
  await shot("subnet");
}
await page.goto(`${base}/r/dns`);
await shot("dns");
const domain = await page.getAttribute("a[href^='/MAAS/r/domain/']:has-text('lab.example')", "href");
if (domain) {
  await page.goto(`${base}${domain.replace("/MAAS", "")}`);
  await shot("domain");
}
await page.goto(`${base}/r/subnets`);
const fabricLink = await page.$("a[href^='/MAAS/r/fabric/']");
const fabric = fabricLink && (await fabricLink.getAttribute("href"));
if (fabric) {
  await page.goto(`${base}${fabric.replace("/MAAS", "")}`);
  await shot("fabric");
}
await page.goto(`${base}/r/spaces`);
await shot("spaces");
await page.goto(`${base}/r/devices`);
const deviceLink = await page.$("a[href^='/MAAS/r/device/']");
const device = deviceLink && (await deviceLink.getAttribute("href"));
if (device) {
  await page.goto(`${base}${device.replace("/MAAS", "")}`);
  await shot("device");
}
await page.goto(`${base}/r/images`);
await shot("images");
await page.goto(`${base}/r/controllers`);
await shot("controllers");
await browser.close();
