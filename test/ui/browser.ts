// Debian's chromium driven by playwright-core (nothing downloaded), a host user made for the
// test, and the compiled daemon in dev mode with its HTTPS listener on a free loopback port.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function missingForBrowserTests(): string | undefined {
  if (!Bun.which(CHROMIUM)) return `${CHROMIUM} is missing (scripts/install-test-deps.sh installs Debian's chromium)`;
  if (process.getuid?.() !== 0) return "making a host user for the login needs root (useradd, chpasswd)";
  if (!Bun.which("useradd") || !Bun.which("chpasswd")) return "useradd/chpasswd are missing";
  return undefined;
}

/** Navigations retried after ERR_NETWORK_CHANGED, at most this many times in all. */
export const NETWORK_CHANGE_RETRIES = 3;

/**
 * Runs a navigation again when Chromium aborted it with net::ERR_NETWORK_CHANGED. Chromium
 * drops requests it is connecting when the host's addresses change (crbug 41465264), and other
 * suites running beside ours make and remove libvirt bridges, veths and network namespaces; no
 * command-line switch turns that off (net's ignore_ip_address_changes is set only for contexts
 * bound to one network). Any other error, or one change too many, is thrown.
 */
export async function retryOnNetworkChange<T>(navigate: () => Promise<T>, retries = NETWORK_CHANGE_RETRIES, onRetry?: (err: Error) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await navigate();
    } catch (err) {
      if (attempt >= retries || !String((err as Error)?.message ?? err).includes("net::ERR_NETWORK_CHANGED")) throw err;
      onRetry?.(err as Error);
    }
  }
}

const hardened = new WeakSet<Page>();

/** page.goto and page.reload of this page retry after a network change (retryOnNetworkChange). */
function hardenNavigation(page: Page): Page {
  if (hardened.has(page)) return page;
  hardened.add(page);
  const log = (err: Error) => console.warn(`browser: ${err.message.split("\n")[0]}; navigating again`);
  const goto = page.goto.bind(page);
  const reload = page.reload.bind(page);
  page.goto = (url, opts) => retryOnNetworkChange(() => goto(url, opts), NETWORK_CHANGE_RETRIES, log);
  page.reload = (opts) => retryOnNetworkChange(() => reload(opts), NETWORK_CHANGE_RETRIES, log);
  return page;
}

/**
 * A fresh profile (launchPersistentContext's directory is Chromium's --user-data-dir), no
 * network chatter of the browser's own, no sandbox (root in CI); every page's goto/reload
 * survives a host network change (hardenNavigation), for the e2e tests and bench/ alike.
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "lq16-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    // The dev listener's certificate is the self-signed one the daemon made on first start.
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 860 },
  });
  for (const page of context.pages()) hardenNavigation(page);
  context.on("page", hardenNavigation);
  const newPage = context.newPage.bind(context);
  context.newPage = async () => hardenNavigation(await newPage());
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function run(cmd: string[], stdin?: string): void {
  const r = Bun.spawnSync(cmd, { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
}

export interface HostUser {
  name: string;
  password: string;
  remove(): void;
}

/** A real host account (names start with `prefix`) in `group`, removed by remove(). */
export function createHostUser(group: string, prefix = "lq16u"): HostUser {
  const name = `${prefix}${process.pid % 100000}`;
  const password = `pw-${crypto.randomUUID()}`;
  Bun.spawnSync(["userdel", "-r", name], { stdout: "ignore", stderr: "ignore" });
  run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", group, name]);
  run(["chpasswd"], `${name}:${password}\n`);
  return { name, password, remove: () => void Bun.spawnSync(["userdel", name], { stdout: "ignore", stderr: "ignore" }) };
}

/** Where screenshots go: LIMIQUANTIX_TEST_ARTIFACTS, or a folder under the temp dir (outside the repo). */
export function artifactsDir(): string {
  const dir = process.env.LIMIQUANTIX_TEST_ARTIFACTS ?? join(tmpdir(), "limiquantix-test-artifacts", "host-ui");
  mkdirSync(dir, { recursive: true });
  return dir;
}

export { freePort } from "../support/free-port.ts";
