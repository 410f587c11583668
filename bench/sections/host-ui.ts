// The host UI's "first page interactive": Debian's chromium (playwright-core), logged in as a
// host user made for the run, loads the dashboard from the compiled binary's HTTPS listener
// with the browser cache off; measured from navigation start to the router's `lq-interactive`
// mark, set once the page has drawn with the daemon's data. Median of repeated loads.

import type { BenchContext } from "../lib/context.ts";
import { freePort } from "../../test/support/free-port.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { startBinaryDaemon } from "../../test/support/binary-daemon.ts";
import { createHostUser, launchBrowser, missingForBrowserTests } from "../../test/ui/browser.ts";
import type { Section } from "./section.ts";

const SECTION = "host-ui";
const NAME = "dashboard first page interactive (cold cache)";
const BUDGET_MS = 1000;

export const hostUiSection: Section = {
  name: SECTION,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const missing = missingForBrowserTests();
    if (missing) return [skippedRow(SECTION, NAME, missing)];
    const runs = ctx.mode === "smoke" ? 2 : ctx.mode === "quick" ? 5 : 15;
    const port = await freePort();
    const user = createHostUser("sudo");
    const daemon = await startBinaryDaemon(["--dev"], { LIMIQUANTIX_AGENT_REST_LISTEN_ADDRESS: `127.0.0.1:${port}` });
    const browser = await launchBrowser();
    try {
      const base = `https://127.0.0.1:${port}`;
      const login = await browser.context.newPage();
      await login.goto(`${base}/`);
      await login.fill("input[name=username]", user.name);
      await login.fill("input[name=password]", user.password);
      await login.click("form.login button[type=submit]");
      await login.waitForSelector("[data-testid=ring-cpu]");
      await login.close();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const page = await browser.context.newPage();
        const cdp = await browser.context.newCDPSession(page);
        await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
        await page.goto(`${base}/`);
        await page.waitForFunction(() => performance.getEntriesByName("lq-interactive").length > 0 && document.querySelector("[data-testid=ring-cpu]"));
        times.push(await page.evaluate(() => performance.getEntriesByName("lq-interactive")[0]?.startTime ?? Number.NaN));
        await page.close();
      }
      const sorted = [...times].sort((a, b) => a - b);
      return [
        {
          section: SECTION,
          name: NAME,
          value: median(times),
          unit: "ms",
          ...(ctx.mode !== "smoke" ? { budget: { op: "<=" as const, limit: BUDGET_MS } } : {}),
          note: `median of ${runs} loads, max ${fmt(sorted.at(-1) ?? Number.NaN)} ms; logged in, compiled binary in dev mode`,
        },
      ];
    } finally {
      await browser.close();
      await daemon.stop();
      user.remove();
    }
  },
};
