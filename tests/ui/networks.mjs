// Browser flow of the network and DNS pages (called by run.mjs with the
// admin's signed-in page): the subnet list and a subnet, an IP range added
// (a bad one's error beside its field first) and deleted after the confirm
// step, the VLAN page refusing DHCP without a rack, a DNS domain and a
// record added with the keyboard; a DHCP reservation added and edited;
// axe on each page. Then `create`: a
// fabric, a VLAN on it, a space, a subnet on that VLAN and an address
// reserved (a bad one explained first) and released, mostly by keyboard.
import { axe, check, need } from "./lib.mjs";

export async function networks(page, r) {
  // The Rust side creates this subnet; `create` below makes its own.
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

  // A DHCP reservation, typed and submitted with the keyboard; its edit
  // page opens from the row.
  await page.goto(`${r}/subnet/${sid}`);
  await page.fill("#dhcp-ip", "10.77.0.50");
  await page.fill("#dhcp-mac_address", "52:54:00:77:00:50");
  await page.fill("#dhcp-comment", "bmc of rack 7");
  await page.press("#dhcp-comment", "Enter");
  await page.waitForURL(/#reserved$/);
  check(await page.isVisible("td:has-text('bmc of rack 7')"), "the DHCP reservation is listed");
  await axe(page, "subnet with a DHCP reservation");
  await page.click("a[aria-label='Edit reservation 10.77.0.50']");
  await page.waitForURL(/\/r\/reservedip\/\d+/);
  await axe(page, "DHCP reservation edit");
  await page.fill("#comment", "bmc of rack 8");
  await page.press("#comment", "Enter");
  await page.waitForURL(/#reserved$/);
  check(await page.isVisible("td:has-text('bmc of rack 8')"), "the edited reservation is listed");

  // A static route to another subnet, then its own edit page.
  const [dst] = (await need("subnet", "10.80.0.0/24")).split(" ");
  await page.goto(`${r}/subnet/${sid}`);
  await page.selectOption("#route-destination", dst);
  await page.fill("#route-gateway_ip", "10.77.0.1");
  await page.press("#route-gateway_ip", "Enter");
  await page.waitForURL(/#routes$/);
  check(await page.isVisible("#routes td:has-text('10.80.0.0/24')"), "the static route is listed");
  await axe(page, "subnet with a static route");
  await page.click("a[aria-label='Edit route to 10.80.0.0/24']");
  await page.waitForURL(/\/r\/staticroute\/\d+/);
  await axe(page, "static route edit");

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
  await create(page, r);
}

async function create(page, r) {
  // A fabric, from the subnets page, with the keyboard.
  await page.goto(`${r}/subnets`);
  await axe(page, "subnets with the admin's forms");
  await page.focus("#fabric-name");
  await page.keyboard.type("browser-fab");
  await page.keyboard.press("Tab");
  await page.keyboard.type("10g");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/r\/fabric\/\d+$/);
  check(await page.isVisible("h1:has-text('Fabric browser-fab')"), "the new fabric's page");
  await axe(page, "fabric");

  // A VLAN on it: a bad vid first (the API's message), then a good one.
  await page.fill("#vlan-vid", "5000");
  await page.press("#vlan-vid", "Enter");
  const vidErr = await page.textContent("#vlan-vid-error");
  check(vidErr?.includes("4094"), `a bad vid is explained beside the field (${vidErr})`);
  await axe(page, "fabric with a VLAN error");
  await page.fill("#vlan-vid", "42");
  await page.fill("#vlan-name", "browser");
  await page.press("#vlan-name", "Enter");
  await page.waitForURL(/\/r\/vlan\/\d+$/);
  check(await page.isVisible("h1:has-text('VLAN 42 (browser)')"), "the VLAN's page");
  await axe(page, "new VLAN");

  // A space, and the VLAN joins it on the VLAN form.
  const vlanUrl = page.url();
  await page.goto(`${r}/spaces`);
  await axe(page, "spaces");
  await page.fill("#name", "browser-space");
  await page.press("#name", "Enter");
  await page.waitForURL(/\/r\/spaces$/);
  check(await page.isVisible("td:has-text('browser-space')"), "the space is listed");
  await page.goto(vlanUrl);
  await page.selectOption("#space", "browser-space");
  await page.click("button:has-text('Save VLAN')");
  await page.waitForURL(/\/r\/vlan\/\d+$/);
  check(await page.isVisible("dd:has-text('browser-space')"), "the VLAN is in the space");

  // A subnet on that VLAN.
  await page.goto(`${r}/subnets`);
  await page.fill("#subnet-cidr", "10.78.0.0/24");
  await page.selectOption("#subnet-vlan", { label: "browser-fab / VLAN 42 (browser)" });
  await page.fill("#subnet-gateway_ip", "10.78.0.1");
  await page.press("#subnet-gateway_ip", "Enter");
  await page.waitForURL(/\/r\/subnet\/\d+$/);
  check(await page.isVisible("h1:has-text('Subnet 10.78.0.0/24')"), "the new subnet's page");
  check(await page.isVisible("a:has-text('VLAN 42 (browser)')"), "on the chosen VLAN");
  await axe(page, "new subnet with its forms");

  // Reserve an address: one outside the subnet is explained, then one in it.
  await page.fill("#reserve-ip", "10.79.0.10");
  await page.press("#reserve-ip", "Enter");
  const ipErr = await page.textContent("#reserve-ip-error");
  check(ipErr?.includes("not within subnet CIDR"), `an address outside is explained beside the field (${ipErr})`);
  await axe(page, "subnet with a reservation error");
  await page.fill("#reserve-ip", "10.78.0.10");
  await page.fill("#reserve-hostname", "browser-host");
  await page.press("#reserve-hostname", "Enter");
  await page.waitForURL(/#used$/);
  check(await page.isVisible("td:has-text('browser-host')"), "the reservation is listed");

  // Release it: the confirm step, then gone.
  await page.click("button[aria-label='Release 10.78.0.10']");
  await page.waitForSelector("h1:has-text('Release 10.78.0.10')");
  await axe(page, "confirm release");
  await page.press("button:has-text('Release 10.78.0.10')", "Enter");
  await page.waitForURL(/#used$/);
  check(!(await page.isVisible("td:has-text('browser-host')")), "the released address is gone");
}
