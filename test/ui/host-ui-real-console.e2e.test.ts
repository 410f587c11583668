// The host UI's console on a real QEMU VM, in Debian's chromium against the compiled binary on
// libvirt (the real tier): a VM with no OS made and started through the API, a host user logs
// in, opens the VM's console page, and noVNC draws SeaBIOS's text screen from QEMU's VNC server
// through the daemon's WebSocket proxy; the picture then changes (boot messages, the blinking
// VGA text cursor). Runs with LIMIQUANTIX_REAL_LIBVIRT=1, as root, with /usr/bin/chromium.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Frame, Page } from "playwright-core";
import { type BinaryDaemon, startBinaryDaemon } from "../support/binary-daemon.ts";
import {
  REAL,
  realCpuDisabledFeatures,
  realDomainType,
  realNetwork,
  realTierStorage,
  type RealTierStorage,
  URI,
  virsh,
  virshQuietly,
} from "../hypervisor/libvirt/real/helpers.ts";
import { artifactsDir, createHostUser, freePort, type HostUser, launchBrowser, missingForBrowserTests } from "./browser.ts";

const missing = missingForBrowserTests();
if (REAL && missing && process.env.CI) throw new Error(`the real-tier host UI console test cannot run: ${missing}`);
if (REAL && missing) console.warn(`skipping the real-tier host UI console test: ${missing}`);

const NODE = "limiquantix.node.v1.NodeDaemonService";

/** What the console's canvas holds: its size, how many pixels are not black, and a hash of them all. */
interface CanvasRead {
  width: number;
  height: number;
  lit: number;
  hash: string;
}

/** Reads noVNC's canvas in the console frame (same origin, so getImageData is allowed). */
function readCanvas(frame: Frame): Promise<CanvasRead> {
  return frame.evaluate(() => {
    const canvas = document.querySelector("#screen canvas") as HTMLCanvasElement | null;
    if (!canvas || canvas.width === 0 || canvas.height === 0) return { width: 0, height: 0, lit: 0, hash: "" };
    const data = (canvas.getContext("2d") as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    let h1 = 0x811c9dc5;
    let h2 = 0;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i] ?? 0;
      const g = data[i + 1] ?? 0;
      const b = data[i + 2] ?? 0;
      if (r + g + b > 0) lit++;
      const px = (r << 16) | (g << 8) | b;
      h1 = Math.imul(h1 ^ px, 0x01000193);
      h2 = (h2 * 31 + px + i) % 0x7fffffff;
    }
    return { width: canvas.width, height: canvas.height, lit, hash: `${(h1 >>> 0).toString(16)}-${h2.toString(16)}` };
  });
}

/** Polls `read` until `done` holds or `ms` passed; returns the last read and whether it held. */
async function waitForRead(
  page: Page,
  read: () => Promise<CanvasRead>,
  done: (r: CanvasRead) => boolean,
  ms: number,
): Promise<{ last: CanvasRead; ok: boolean; reads: number }> {
  const deadline = Date.now() + ms;
  let reads = 0;
  for (;;) {
    const last = await read();
    reads++;
    if (done(last)) return { last, ok: true, reads };
    if (Date.now() > deadline) return { last, ok: false, reads };
    await page.waitForTimeout(100);
  }
}

describe.skipIf(!REAL || missing !== undefined)(`host UI console of a real QEMU VM, libvirt at ${URI}`, () => {
  let storage: RealTierStorage;
  let daemon: BinaryDaemon;
  let user: HostUser;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let base: string;
  const shots = artifactsDir();
  const vmName = `lq16e-console-${process.pid}`;
  const vmId = crypto.randomUUID();

  async function api<T>(method: string, body: object = {}): Promise<T> {
    const res = await fetch(`${daemon.baseUrl}/${NODE}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  function removeDomain(): void {
    virshQuietly(["destroy", vmId], ["undefine", vmId, "--nvram"]);
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `https://127.0.0.1:${port}`;
    storage = realTierStorage("lq16r-");
    // The node's own pool, made here under a name of this run's own: the daemon adopts the pool
    // that has its storage folder, instead of defining "limiquantix", which other suites use.
    virsh("pool-define-as", storage.poolName, "dir", "--target", storage.storagePath);
    virsh("pool-build", storage.poolName);
    virsh("pool-start", storage.poolName);
    user = createHostUser("sudo", "lq16r");
    [daemon, browser] = await Promise.all([
      startBinaryDaemon([], {
        LIMIQUANTIX_HYPERVISOR_BACKEND: "libvirt",
        LIMIQUANTIX_HYPERVISOR_LIBVIRT_URI: URI,
        LIMIQUANTIX_NODE_STATE_DIR: storage.root,
        LIMIQUANTIX_HYPERVISOR_STORAGE_PATH: storage.storagePath,
        LIMIQUANTIX_HYPERVISOR_CPU_DISABLED_FEATURES: realCpuDisabledFeatures().join(","),
        LIMIQUANTIX_HYPERVISOR_DEFAULT_NETWORK: realNetwork(),
        LIMIQUANTIX_HYPERVISOR_CONSOLE_LISTEN: "127.0.0.1",
        LIMIQUANTIX_AGENT_REST_LISTEN_ADDRESS: `127.0.0.1:${port}`,
      }),
      launchBrowser(),
    ]);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("pageerror", (e) => console.error(`browser page error: ${e.message}`));
    console.log(`host UI real console: domain type ${realDomainType()}, screenshots in ${shots}`);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (daemon) await api("DeleteVM", { vmId, force: true, deleteDisks: true }).catch((e: Error) => console.warn(`DeleteVM: ${e.message}`));
    removeDomain();
    await daemon?.stop();
    user?.remove();
    storage?.remove();
  }, 60_000);

  test("log in, open a running VM's console: SeaBIOS's screen arrives from QEMU's VNC and changes", async () => {
    // No disk, no OS: SeaBIOS prints on the VGA text screen and retries the boot.
    const created = await api<{ vmId: string }>("CreateVM", {
      vmId,
      name: vmName,
      start: true,
      spec: { cpuCores: 1, memoryMib: "256", console: { vncEnabled: true } },
    });
    expect(created.vmId).toBe(vmId);
    expect(virsh("domstate", vmId)).toBe("running");
    expect(virsh("vncdisplay", vmId)).toMatch(/^127\.0\.0\.1:\d+$/);

    await page.goto(`${base}/`);
    await page.waitForSelector("form.login");
    await page.fill("input[name=username]", user.name);
    await page.fill("input[name=password]", user.password);
    await page.click("form.login button[type=submit]");
    await page.waitForSelector("[data-testid=ring-memory]", { timeout: 15_000 });

    await page.goto(`${base}/#/vms/${encodeURIComponent(vmId)}`);
    await page.click("[data-testid=open-console]");
    const frame = (await (await page.waitForSelector("[data-testid=console-frame]")).contentFrame()) as Frame;
    await frame.waitForSelector("body[data-console=connected]", { timeout: 15_000 });

    // The framebuffer arrives. Before the guest draws, QEMU's VNC shows its own 640x480 notice
    // ("Guest has not initialized the display"); the guest's picture is the VGA text mode SeaBIOS
    // sets, 80x25 cells of 9x16 pixels: 720x400, lit text on black.
    const guestScreen = (r: CanvasRead) => r.width === 720 && r.height === 400 && r.lit > 0;
    const t0 = performance.now();
    const arrived = await waitForRead(page, () => readCanvas(frame), guestScreen, 30_000);
    const firstMs = performance.now() - t0;
    await page.screenshot({ path: join(shots, "real-01-console.png"), fullPage: true });
    expect({ ...arrived.last, hash: "" }).toMatchObject({ width: 720, height: 400 });
    expect(arrived.ok).toBe(true);
    const first = arrived.last;

    // ...and updates: SeaBIOS's boot messages follow each other and its text cursor blinks
    // (QEMU redraws it about every 0.27 s), so a bounded wait sees another picture of the guest.
    const t1 = performance.now();
    const changed = await waitForRead(
      page,
      () => readCanvas(frame),
      (r) => guestScreen(r) && r.hash !== first.hash,
      20_000,
    );
    const changeMs = performance.now() - t1;
    await page.screenshot({ path: join(shots, "real-02-console-changed.png"), fullPage: true });
    console.log(
      `real console: ${first.width}x${first.height}, ${first.lit} lit pixels after ${firstMs.toFixed(0)} ms; ` +
        `changed (${changed.last.lit} lit) after ${changeMs.toFixed(0)} ms, ${changed.reads} reads`,
    );
    expect(changed.ok).toBe(true);
    expect(await frame.getAttribute("body", "data-console")).toBe("connected");
  }, 90_000);
});
