// The host UI end to end, in Debian's chromium against the compiled binary in dev mode (mock
// hypervisor): log in as a real host user, the dashboard's figures against GetNodeInfo, create a
// VM from the form, start it and watch its state change without a reload, take and revert a
// snapshot, open its console and see the framebuffer change, read the event log, log out and be
// refused. Screenshots of every page go to artifactsDir().

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Frame, Page } from "playwright-core";
import { type BinaryDaemon, startBinaryDaemon } from "../support/binary-daemon.ts";
import { artifactsDir, createHostUser, freePort, type HostUser, launchBrowser, missingForBrowserTests } from "./browser.ts";

const missing = missingForBrowserTests();
if (missing && process.env.CI) throw new Error(`host UI browser tests cannot run: ${missing}`);
if (missing) console.warn(`skipping the host UI browser tests: ${missing}`);

const ADMIN_GROUP = "sudo";
const NODE = "limiquantix.node.v1.NodeDaemonService";

describe.skipIf(missing !== undefined)("host UI in a browser", () => {
  let daemon: BinaryDaemon;
  let user: HostUser;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const shots = artifactsDir();
  const vmName = `lq16u-vm-${process.pid}`;
  let vmId = "";
  /** What the browser reported as Content-Security-Policy violations, in any frame. */
  const cspViolations: string[] = [];

  /** The node API as the control plane would call it (Connect JSON on the API port). */
  async function api<T>(method: string, body: object = {}): Promise<T> {
    const res = await fetch(`${daemon.baseUrl}/${NODE}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    const port = await freePort();
    base = `https://127.0.0.1:${port}`;
    user = createHostUser(ADMIN_GROUP);
    [daemon, browser] = await Promise.all([startBinaryDaemon(["--dev"], { LIMIQUANTIX_AGENT_REST_LISTEN_ADDRESS: `127.0.0.1:${port}` }), launchBrowser()]);
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => console.error(`browser page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.text().includes("Content Security Policy")) cspViolations.push(m.text());
    });
    console.log(`host UI screenshots: ${shots}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    user?.remove();
  });

  test("log in with a host account; the dashboard shows GetNodeInfo's figures", async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector("form.login");
    await shot("01-login");
    await page.fill("input[name=username]", user.name);
    await page.fill("input[name=password]", user.password);
    await page.click("form.login button[type=submit]");
    await page.waitForSelector("[data-testid=ring-memory]", { timeout: 15_000 });
    await page.waitForSelector("[data-testid=registration] button");

    const info = await api<{ hostname: string; memory: { totalBytes: string }; cpu: { totalThreads: number }; hypervisor: { name: string } }>("GetNodeInfo");
    expect(await page.textContent("[data-testid=fact-hostname]")).toBe(info.hostname);
    expect(await page.getAttribute("[data-testid=fact-memory]", "data-bytes")).toBe(info.memory.totalBytes);
    expect(await page.textContent("[data-testid=fact-cpu]")).toContain(`= ${info.cpu.totalThreads}`);
    expect(await page.textContent("[data-testid=fact-hypervisor]")).toContain(info.hypervisor.name);
    expect(await page.textContent("[data-testid=user]")).toBe(user.name);

    // "First page interactive": a fresh load of the dashboard with the session cookie, from
    // navigation start to the router's mark after the page drew (the budget lives in bench/).
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === "1" && document.querySelector("[data-testid=ring-cpu]"));
    const interactiveMs = await page.evaluate(() => performance.getEntriesByName("lq-interactive")[0]?.startTime ?? -1);
    console.log(`host UI first page interactive: ${interactiveMs.toFixed(0)} ms`);
    expect(interactiveMs).toBeGreaterThan(0);

    await page.click("[data-testid=registration-new]");
    await page.waitForSelector("[data-testid=registration-token]");
    await page.waitForTimeout(300); // let the sparklines finish drawing for the picture
    await shot("02-dashboard");
  }, 30_000);

  test("create a VM from the form, start it, watch its state change without a reload", async () => {
    // An ISO in the default pool's folder, for the form's ISO picker (the mock only checks it exists).
    const { pools = [] } = await api<{ pools?: { poolId: string; mountPath?: string }[] }>("ListStoragePools");
    const pool = pools.find((p) => p.poolId === "default");
    expect(pool?.mountPath).toBeString();
    mkdirSync(join(pool!.mountPath!, "iso"), { recursive: true });
    writeFileSync(join(pool!.mountPath!, "iso", "lq16u-installer.iso"), new Uint8Array(2048));
    await page.click("[data-nav=vms]");
    await page.click("[data-testid=new-vm]");
    await page.waitForSelector("[data-testid=create-vm]");
    await page.selectOption("select[name=iso]", { label: "default: iso/lq16u-installer.iso" });
    await page.fill("input[name=name]", vmName);
    await page.fill("input[name=memoryMib]", "512");
    await page.fill("input[name=diskGib]", "1");
    await page.fill("textarea[name=userData]", `#cloud-config\nhostname: ${vmName}\n`);
    await shot("03-create-vm");
    await page.click("[data-testid=create-vm] button[type=submit]");
    await page.waitForURL(/#\/vms\/[0-9a-f-]{36}$/);
    vmId = decodeURIComponent(page.url().split("#/vms/")[1] ?? "");
    await page.waitForSelector("[data-testid=vm-state]:text-is('stopped')");
    const created = await api<{ name: string; spec: { memoryMib: string; cdroms?: { isoPath?: string }[]; disks?: { poolId?: string }[] } }>("GetVMStatus", {
      vmId,
    });
    expect(created.name).toBe(vmName);
    expect(created.spec.memoryMib).toBe("512");
    expect(created.spec.cdroms?.some((c) => c.isoPath?.endsWith("iso/lq16u-installer.iso"))).toBe(true);

    // On the list: a marker on window proves the page is never reloaded while the state changes.
    await page.click("[data-nav=vms]");
    const row = `[data-testid=vm-list] tr[data-vm="${vmName}"]`;
    await page.waitForSelector(row);
    await page.evaluate(() => Object.assign(window, { lqNoReload: true }));
    await page.click(`${row} [data-action=start]`);
    await page.click("[data-testid=confirm-yes]");
    await page.waitForSelector(`${row} [data-testid=vm-state]:text-is('running')`);
    // A change made elsewhere (the API) reaches the open list through StreamEvents alone.
    await api("PauseVM", { vmId });
    await page.waitForSelector(`${row} [data-testid=vm-state]:text-is('paused')`);
    await api("ResumeVM", { vmId });
    await page.waitForSelector(`${row} [data-testid=vm-state]:text-is('running')`);
    expect(await page.evaluate(() => (window as unknown as { lqNoReload?: boolean }).lqNoReload)).toBe(true);
    await shot("04-vms");
  }, 30_000);

  test("the VM page: take and revert a snapshot, hot-plug a disk and a NIC, eject the ISO", async () => {
    await page.click(`[data-testid=vm-list] tr[data-vm="${vmName}"] a`);
    await page.waitForSelector("[data-testid=snapshots]");
    await page.fill("input[name=snapshotName]", "lq16u-snap1");
    await page.click("[data-testid=take-snapshot]");
    await page.waitForSelector("[data-snapshot=lq16u-snap1]");
    const taken = await api<{ snapshots?: { snapshotId: string }[] }>("ListSnapshots", { vmId });
    expect(taken.snapshots?.map((s) => s.snapshotId)).toContain("lq16u-snap1");
    await page.click("[data-snapshot=lq16u-snap1] >> xpath=ancestor::tr >> [data-action=revert]");
    await page.click("[data-testid=confirm-yes]");
    await page.waitForSelector("#flash:text('Revert to lq16u-snap1 done')");
    // Hot-plug a disk and a NIC, eject the ISO: each shows on the page and in the VM's spec.
    await page.fill("input[name=diskId]", "data1");
    // The page redraws on every event of the VM (here a pause and a resume made elsewhere): what
    // the operator was typing stays.
    await api("PauseVM", { vmId });
    await page.waitForSelector(".vm-head :text-is('paused')");
    await api("ResumeVM", { vmId });
    await page.waitForSelector(".vm-head :text-is('running')");
    expect(await page.inputValue("input[name=diskId]")).toBe("data1");
    // ... and where they were typing: the next keystrokes still go into that field.
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe("diskId");
    await page.click("button:text-is('Attach disk')");
    await page.waitForSelector("[data-testid=vm-disks] td:text-is('data1')");
    await page.fill("input[name=nicId]", "eth1");
    await page.click("button:text-is('Attach NIC')");
    await page.waitForSelector("[data-testid=vm-nics] td:text-is('eth1')");
    await page.click("[data-testid=vm-cdroms] tr:has(td:text-is('cd0')) button:text-is('Eject')");
    await page.waitForSelector("[data-testid=vm-cdroms] tr:has(td:text-is('cd0')) td:text-is('empty')");
    const spec = (await api<{ spec: { disks: { id: string }[]; nics: { id: string }[] } }>("GetVMStatus", { vmId })).spec;
    expect(spec.disks.map((d) => d.id)).toContain("data1");
    expect(spec.nics.map((n) => n.id)).toContain("eth1");
    await page.waitForSelector("[data-testid=qemu-log]");
    await shot("05-vm");
  }, 30_000);

  test("open the VM's console and see the framebuffer update", async () => {
    await page.click("[data-testid=open-console]");
    const frameEl = await page.waitForSelector("[data-testid=console-frame]");
    const frame = (await frameEl.contentFrame()) as Frame;
    await frame.waitForSelector("body[data-console=connected]", { timeout: 15_000 });
    const canvas = frame.locator("#screen canvas");
    await canvas.waitFor();
    const first = await canvas.screenshot();
    // The mock's framebuffer changes on its own: wait (bounded) for a different picture.
    let changed = false;
    for (let i = 0; i < 50 && !changed; i++) {
      await page.waitForTimeout(200);
      changed = !Buffer.from(await canvas.screenshot()).equals(Buffer.from(first));
    }
    expect(changed).toBe(true);
    await shot("06-console");
  }, 30_000);

  test("the pages broke no rule of the Content-Security-Policy (uPlot charts, noVNC console)", async () => {
    expect(cspViolations).toEqual([]);
    // The watch itself works: an inline style attribute, which the policy forbids, is reported.
    await page.evaluate(() => document.body.append(Object.assign(document.createElement("i"), { id: "lq16u-csp-probe" })));
    await page.evaluate(() => document.getElementById("lq16u-csp-probe")?.setAttribute("style", "color: red"));
    for (let i = 0; i < 50 && cspViolations.length === 0; i++) await page.waitForTimeout(100);
    expect(cspViolations.join("\n")).toContain("style-src");
    await page.evaluate(() => document.getElementById("lq16u-csp-probe")?.remove());
  });

  test("a foreign page cannot frame the UI (clickjacking), nor its console page", async () => {
    // A page of another origin (localhost, plain HTTP, its own port) that frames the host UI; on
    // loopback too, so that Chromium's local network access checks do not refuse it first.
    const elsewhere = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(`<iframe id="ui" src="${base}/"></iframe><iframe id="console" src="${base}/ui/console?vm=x"></iframe>`, {
          headers: { "content-type": "text/html" },
        }),
    });
    const foreign = await context.newPage();
    try {
      await foreign.goto(`http://localhost:${elsewhere.port}/`);
      for (const id of ["ui", "console"]) {
        const frame = (await (await foreign.waitForSelector(`#${id}`)).contentFrame()) as Frame;
        // Chromium's error page in the frame, for the response's framing headers (not, say, the
        // certificate: the UI's own iframe of the console page loaded above).
        await frame.waitForSelector(".error-code", { state: "attached" });
        expect([id, await frame.textContent(".error-code")]).toEqual([id, "ERR_BLOCKED_BY_RESPONSE"]);
      }
    } finally {
      await foreign.close();
      await elsewhere.stop(true);
    }
  }, 20_000);

  test("the event log shows what happened to the VM; storage pools list their files", async () => {
    await page.click("[data-nav=events]");
    await page.waitForSelector("[data-testid=events] tbody tr");
    await page.fill("input[name=vm]", vmName);
    for (const type of ["EVENT_TYPE_VM_CREATED", "EVENT_TYPE_VM_STARTED", "EVENT_TYPE_SNAPSHOT_CREATED", "EVENT_TYPE_SNAPSHOT_REVERTED"])
      await page.waitForSelector(`[data-testid=events] tbody tr[data-type=${type}]`);
    await page.selectOption("select[name=type]", "EVENT_TYPE_VM_PAUSED");
    // Paused twice: from the list (the list test) and on the VM page (the page test).
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("[data-testid=events] tbody tr")];
      return rows.length === 2 && rows.every((r) => r.getAttribute("data-type") === "EVENT_TYPE_VM_PAUSED");
    });
    await page.selectOption("select[name=type]", "");
    await shot("07-events");
    await page.click("[data-nav=storage]");
    await page.click("[data-testid=pools] a:text-is('default')");
    await page.click("[data-testid=pool-files] a:text-is('iso/')");
    await page.waitForSelector("[data-testid=pool-files] td:text-is('lq16u-installer.iso')");
    await shot("08-storage");
  }, 30_000);

  test("delete the VM from the list, after a confirmation that can be cancelled", async () => {
    await page.click("[data-nav=vms]");
    const row = `[data-testid=vm-list] tr[data-vm="${vmName}"]`;
    await page.click(`${row} [data-action=delete]`);
    await page.click("[data-testid=confirm-dialog] button:text-is('Cancel')");
    expect((await api<{ name: string }>("GetVMStatus", { vmId })).name).toBe(vmName);
    await page.click(`${row} [data-action=delete]`);
    await page.click("[data-testid=confirm-yes]");
    await page.waitForSelector(row, { state: "detached" });
    const { vms = [] } = await api<{ vms?: { vmId: string }[] }>("ListVMs");
    expect(vms.map((v) => v.vmId)).not.toContain(vmId);
  }, 20_000);

  test("log out; the session is refused afterwards", async () => {
    const csrf = await page.evaluate(async () => ((await (await fetch("/auth/session")).json()) as { csrfToken: string }).csrfToken);
    await page.click("[data-testid=logout]");
    await page.waitForSelector("form.login");
    const after = await page.evaluate(async (token) => {
      const res = await fetch("/ui-api/limiquantix.node.v1.NodeDaemonService/GetNodeInfo", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": token },
        body: "{}",
      });
      return res.status;
    }, csrf);
    expect(after).toBe(401);
    await page.goto(`${base}/#/vms`);
    await page.waitForSelector("form.login");
  }, 20_000);
});
