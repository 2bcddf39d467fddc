// Browser flow of the network and DNS pages (called by run.mjs with the
// admin's signed-in page): the subnet list and a subnet, an IP range added
// (a bad one's error beside its field first) and deleted after the confirm
// step, the VLAN page refusing DHCP without a rack, a DNS domain and a
// record added with the keyboard; axe on each page.
import { axe, check, need } from "./lib.mjs";

export async function networks(page, r) {
  // The Rust side creates the subnet (the UI has no subnet form).
  const [sid, vlan] = (await need("subnet", "10.77.0.0/24")).split(" ");

  await page.goto(`${r}/subnets`);
  await axe(page, "subnets");
  check(await page.isVisible(`a[href='/MAAS/r/subnet/${sid}']`), "the subnet is listed under its fabric and VLAN");
  await page.click(`a[href='/MAAS/r/subnet/${sid}']`);
  await page.waitForURL(new RegExp(`/r/subnet/${sid}`));
  await axe(page, "subnet");

  // A bad range: the API's message beside the field, typed values kept.
  await page.selectOption("#type", "reserved");
  await page.fill("#start_ip", "10.77.0.20");
  await page.fill("#end_ip", "10.77.1.30");
  await page.fill("#comment", "from the browser");
  await page.click("button:has-text('Add range')");
  const err = await page.textContent("#end_ip-error");
  check(err && err.length > 0, `a bad range's error is beside the end IP (${err})`);
  check((await page.getAttribute("#end_ip", "aria-invalid")) === "true", "the bad field is marked invalid");
  await axe(page, "subnet with a field error");

  // Corrected, submitted with the keyboard.
  await page.fill("#end_ip", "10.77.0.30");
  await page.press("#end_ip", "Enter");
  await page.waitForURL(/#ranges$/);
  check(await page.isVisible("td:has-text('from the browser')"), "the range is listed");

  // Deleting it asks first; cancel keeps it.
  await page.click("button[aria-label='Delete range 10.77.0.20 to 10.77.0.30']");
  await page.waitForSelector("h1:has-text('Delete IP range')");
  await axe(page, "confirm deletion");
  await page.click("a:has-text('Cancel')");
  check(await page.isVisible("td:has-text('from the browser')"), "cancel keeps the range");

  // The VLAN: DHCP without a rack or a dynamic range is refused.
  await page.goto(`${r}/vlan/${vlan}`);
  await axe(page, "VLAN");
  await page.check("#dhcp_on");
  await page.click("button:has-text('Save VLAN')");
  check((await page.textContent("#dhcp_on-error"))?.includes("dynamic IP range"), "DHCP without a dynamic range: the API's refusal beside the checkbox");
  check((await page.textContent("div.error"))?.includes("primary rack"), "and the missing primary rack above the form");

  // The range goes (confirmed).
  await page.goto(`${r}/subnet/${sid}`);
  await page.click("button[aria-label='Delete range 10.77.0.20 to 10.77.0.30']");
  await page.click("button:has-text('Delete')");
  await page.waitForURL(/#ranges$/);
  check(!(await page.isVisible("td:has-text('from the browser')")), "the confirmed deletion removes the range");

  // DNS: a domain, then a record, with the keyboard.
  await page.goto(`${r}/dns`);
  await axe(page, "DNS");
  await page.focus("#name");
  await page.keyboard.type("browser.test");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/r\/domain\/\d+/);
  await axe(page, "domain");
  await page.fill("#name", "www");
  await page.selectOption("#rrtype", "A");
  await page.fill("#rrdata", "10.77.0.99");
  await page.press("#rrdata", "Enter");
  await page.waitForURL(/#records$/);
  check(await page.isVisible("td:has-text('10.77.0.99')"), "the A record is listed");
  await page.fill("#name", "www");
  await page.selectOption("#rrtype", "CNAME");
  await page.fill("#rrdata", "elsewhere.test");
  await page.click("button:has-text('Add record')");
  check((await page.textContent("#rrdata-error"))?.includes("CNAME"), "a CNAME beside an address is refused beside the data");
  await page.fill("#name", "txt");
  await page.selectOption("#rrtype", "TXT");
  await page.fill("#rrdata", "made in the browser");
  await page.click("button:has-text('Add record')");
  await page.waitForURL(/#records$/);
  check(await page.isVisible("td:has-text('made in the browser')"), "the TXT record is listed");
  await axe(page, "domain with records");
}
