// The host UI gate's pure parts: the login limiter and the session store against a fake clock,
// `id` output, the registration token, the cross-site rules and the discovery mapping.

import { describe, expect, test } from "bun:test";
import { buildDiscovery } from "../../../src/server/host-ui/discovery.ts";
import { mayUseHostUi, parseIdOutput } from "../../../src/server/host-ui/host-groups.ts";
import { createLoginLimiter } from "../../../src/server/host-ui/login-limiter.ts";
import { createRegistrationTokens, newTokenText, TOKEN_TTL_MS } from "../../../src/server/host-ui/registration-token.ts";
import { crossSiteProblem } from "../../../src/server/host-ui/request-guard.ts";
import { cookieValue, createSessionStore } from "../../../src/server/host-ui/sessions.ts";

describe("login limiter", () => {
  test("five failures lock the address 30 s, then each further failure doubles it; success clears", () => {
    let now = 1_000_000;
    const limiter = createLoginLimiter({ now: () => now });
    const fail = (address = "10.0.0.1") => {
      const a = limiter.begin(address);
      if (!a.ok) throw new Error("refused");
      a.finish("failure");
    };
    for (let i = 0; i < 5; i++) fail();
    expect(limiter.begin("10.0.0.1")).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(limiter.begin("10.0.0.2").ok).toBe(true);
    now += 30_000;
    fail();
    expect(limiter.begin("10.0.0.1")).toEqual({ ok: false, retryAfterSeconds: 60 });
    now += 60_000;
    const ok = limiter.begin("10.0.0.1");
    if (!ok.ok) throw new Error("refused");
    ok.finish("success");
    for (let i = 0; i < 4; i++) fail();
    expect(limiter.begin("10.0.0.1").ok).toBe(true);
  });

  test("attempts in flight count: a burst gets no more tries than a sequence", () => {
    const limiter = createLoginLimiter({ now: () => 0 });
    const burst = Array.from({ length: 7 }, () => limiter.begin("::1"));
    expect(burst.map((a) => a.ok)).toEqual([true, true, true, true, true, false, false]);
    for (const a of burst) if (a.ok) a.finish("neutral");
    expect(limiter.begin("::1").ok).toBe(true);
  });

  test("failures older than the window are forgotten", () => {
    let now = 0;
    const limiter = createLoginLimiter({ now: () => now });
    for (let i = 0; i < 4; i++) {
      const a = limiter.begin("h");
      if (a.ok) a.finish("failure");
    }
    now += 15 * 60_000 + 1;
    const a = limiter.begin("h");
    if (a.ok) a.finish("failure");
    expect(limiter.begin("h").ok).toBe(true);
  });
});

describe("sessions", () => {
  test("end after the idle limit, or the absolute limit however busy", () => {
    let now = 0;
    const store = createSessionStore({ idleMs: 1000, maxAgeMs: 5000, now: () => now });
    const s = store.create("root");
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.csrfToken).not.toBe(s.id);
    expect(store.expiresAtMs(s)).toBe(1000);
    for (now = 900; now < 5000; now += 900) expect(store.touch(s.id)?.username).toBe("root");
    now = 5000;
    expect(store.touch(s.id)).toBeUndefined();
    const idle = store.create("root");
    now += 1000;
    expect(store.touch(idle.id)).toBeUndefined();
    expect(store.size()).toBe(0);
  });

  test("beyond the cap the least recently used session ends", () => {
    const store = createSessionStore({ idleMs: 1e9, maxAgeMs: 1e9, maxSessions: 2 });
    const a = store.create("a");
    const b = store.create("b");
    store.touch(a.id);
    store.create("c");
    expect(store.touch(b.id)).toBeUndefined();
    expect(store.touch(a.id)?.username).toBe("a");
  });

  test("every end is announced once: logout, expiry found by sweep or touch, eviction", () => {
    let now = 0;
    const ended: string[] = [];
    const store = createSessionStore({ idleMs: 1000, maxAgeMs: 10_000, maxSessions: 3, now: () => now });
    store.onEnd((id) => ended.push(id));
    const [a, b, c] = [store.create("a"), store.create("b"), store.create("c")];
    store.end(a.id);
    store.end(a.id);
    expect(ended).toEqual([a.id]);
    now = 500;
    store.touch(c.id);
    now = 1200;
    store.sweep();
    expect(ended).toEqual([a.id, b.id]);
    now = 1600;
    expect(store.touch(c.id)).toBeUndefined();
    expect(ended).toEqual([a.id, b.id, c.id]);
    const d = store.create("d");
    store.create("e");
    store.create("f");
    store.create("g");
    expect(ended).toEqual([a.id, b.id, c.id, d.id]);
  });

  test("cookie header parsing", () => {
    expect(cookieValue("a=1; lq_session=xyz; b=2", "lq_session")).toBe("xyz");
    expect(cookieValue("xlq_session=1", "lq_session")).toBeUndefined();
    expect(cookieValue(null, "lq_session")).toBeUndefined();
  });
});

describe("host accounts", () => {
  test("id output: uid, primary and supplementary group names", () => {
    expect(parseIdOutput("uid=1001(alice) gid=1001(alice) groups=1001(alice),27(sudo),4242\n")).toEqual({ uid: 1001, groups: ["alice", "sudo"] });
    expect(parseIdOutput("uid=0(root) gid=0(root) groups=0(root)")).toEqual({ uid: 0, groups: ["root"] });
    expect(parseIdOutput("id: 'x': no such user")).toBeUndefined();
  });

  test("root and the admin group get in, nobody else", () => {
    expect(mayUseHostUi({ uid: 0, groups: [] }, "sudo")).toBe(true);
    expect(mayUseHostUi({ uid: 5, groups: ["users", "sudo"] }, "sudo")).toBe(true);
    expect(mayUseHostUi({ uid: 5, groups: ["users", "sudoers"] }, "sudo")).toBe(false);
  });
});

describe("registration token", () => {
  test("format, acceptance, replacement and expiry after 1 h", () => {
    expect(newTokenText()).toMatch(/^QUANTIX-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    let now = 0;
    const tokens = createRegistrationTokens(() => now);
    expect(tokens.current()).toBeUndefined();
    expect(tokens.accepts("")).toBe(false);
    const first = tokens.issue();
    expect(tokens.accepts(first.token)).toBe(true);
    const second = tokens.issue();
    expect(tokens.accepts(first.token)).toBe(first.token === second.token);
    now = TOKEN_TTL_MS;
    expect(tokens.accepts(second.token)).toBe(false);
    expect(tokens.current()).toBeUndefined();
  });
});

describe("cross-site rules", () => {
  const req = (headers: Record<string, string>) => new Request("https://10.0.0.5:8443/auth/login", { method: "POST", headers });
  test("same origin, or nothing said, passes; anything else is named", () => {
    expect(crossSiteProblem(req({}))).toBeUndefined();
    expect(crossSiteProblem(req({ origin: "https://10.0.0.5:8443", "sec-fetch-site": "same-origin" }))).toBeUndefined();
    expect(crossSiteProblem(req({ origin: "https://10.0.0.5" }))).toContain("is not https://10.0.0.5:8443");
    expect(crossSiteProblem(req({ origin: "null" }))).toContain("Origin null");
    expect(crossSiteProblem(req({ "sec-fetch-site": "same-site" }))).toBe("Sec-Fetch-Site is same-site");
  });
});

describe("discovery", () => {
  test("maps telemetry to the contract's names, leaving out what is unknown", () => {
    const d = buildDiscovery({
      hostname: "h1",
      managementIp: "10.0.0.5",
      identity: {
        hostname: "h1",
        os: { name: "Debian", kernel: "6.1", arch: "x64" },
        cpu: { model: "AMD EPYC 7302", sockets: 2, coresPerSocket: 16, threadsPerCore: 2, totalThreads: 64, onlineCpus: 64, mhz: 3000.4, flags: ["svm"] },
        memory: { totalBytes: 1000 },
        pciDevices: [
          { address: "0000:41:00.0", vendorId: "10de", deviceId: "1eb8", classCode: "0302", className: "3D controller", isGpu: true, vendorName: "NVIDIA" },
        ],
      },
      sample: {
        timestamp: new Date(0),
        filesystems: [],
        memory: { totalBytes: 1000, availableBytes: 400, swapTotalBytes: 50, swapFreeBytes: 20, raw: new Map() },
      },
      interfaces: [
        { name: "lo", macAddress: "", ipAddresses: ["127.0.0.1"], up: true },
        { name: "eno1", macAddress: "aa:bb:cc:dd:ee:ff", ipAddresses: [], speedMbps: 10000, up: true },
      ],
      blockDevices: [
        { name: "nvme0n1", sizeBytes: 512, model: "Samsung", rotational: false },
        { name: "sda", sizeBytes: 1024, rotational: true, removable: false },
      ],
      nfs: [{ mountPoint: "/mnt/nfs", source: "filer:/export/vm", sizeBytes: 10, usedBytes: 4, availableBytes: 6 }],
    });
    expect(d as unknown).toEqual({
      hostname: "h1",
      managementIp: "10.0.0.5",
      cpu: {
        model: "AMD EPYC 7302",
        vendor: "AuthenticAMD",
        cores: 32,
        threads: 64,
        sockets: 2,
        frequencyMhz: 3000,
        features: ["svm"],
        architecture: "x86_64",
      },
      memory: { totalBytes: 1000, availableBytes: 400, usedBytes: 600, swapTotalBytes: 50, swapUsedBytes: 30 },
      storage: {
        local: [
          { name: "nvme0n1", model: "Samsung", sizeBytes: 512, diskType: "NVMe", interface: "nvme" },
          { name: "sda", model: "", sizeBytes: 1024, diskType: "HDD", interface: "sata", isRemovable: false },
        ],
        nfs: [{ mountPoint: "/mnt/nfs", server: "filer", exportPath: "/export/vm", sizeBytes: 10, usedBytes: 4, availableBytes: 6 }],
        iscsi: [],
      },
      network: [{ name: "eno1", macAddress: "aa:bb:cc:dd:ee:ff", speedMbps: 10000, linkState: "up" }],
      gpus: [{ name: "3D controller", vendor: "NVIDIA", pciAddress: "0000:41:00.0" }],
    });
  });
});
