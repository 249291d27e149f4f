/**
 * Live charging in the web app, measured: sessions charged from headless Chromium against the processes of
 * `npm run web` (scripts/lib/liveNet.ts: `hardhat node`, relayer, station, one charger), each with its lock and its
 * close proved in the browser's Web Worker. Reports the lock and close proofs' wall time as the Charge screen
 * measures it (`Driver.prepareLock` with its note sync; `prepareClose` with its escrow read), the first session
 * (artifact downloads included) apart from the timed ones.
 *
 * Standalone: `npx tsx bench/webLive.ts` (BENCH_WEB_LIVE_RUNS, default 2 timed sessions after one warm-up). Needs
 * /usr/bin/chromium (or ZKCHARGE_CHROMIUM).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "puppeteer-core";
import { freePort } from "../dev/nodes.ts";
import { startLiveNet } from "../scripts/lib/liveNet.ts";
import { buildSite, launchChromium, liveSiteConfig, serveSite } from "../scripts/lib/webSite.ts";
import { ms, sample, spread, table, type Sample } from "./stats.ts";
import { createWalletAndDeposit } from "./web.ts";

/** One session's proofs, wall ms. */
interface SessionTiming {
  lockMs: number;
  closeMs: number;
}

/** What {@link benchWebLive} measured. */
export interface WebLiveBench {
  warmup: SessionTiming;
  lock: Sample;
  close: Sample;
  chromium: string;
}

/** Waits (bounded) until `selector`'s text matches `pattern`. */
async function waitFor(page: Page, selector: string, pattern: RegExp, timeout: number): Promise<string> {
  await page.waitForFunction(
    (s: string, src: string) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ""),
    { timeout, polling: 250 },
    selector,
    pattern.source,
  );
  return page.$eval(selector, (e) => (e.textContent ?? "").trim());
}

/** Runs the bench; `log` gets progress lines. */
export async function benchWebLive(runs = 2, log: (line: string) => void = () => {}): Promise<WebLiveBench> {
  log("web live: starting the chain, relayer, station and charger processes, building the site");
  const net = await startLiveNet({ dir: mkdtempSync(join(tmpdir(), "zkcharge-bench-web-live-")), chargers: ["CS001"] });
  let site: Awaited<ReturnType<typeof serveSite>> | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    await buildSite();
    site = await serveSite(liveSiteConfig(net), await freePort());
    browser = await launchChromium();
    const chromium = await browser.version();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    log("web live: wallet in the browser: create, deposit 100 EUR");
    await createWalletAndDeposit(page, site.url, 100);

    const timings: SessionTiming[] = [];
    for (let i = 0; i <= runs; i++) {
      log(`web live: session ${i === 0 ? "warm-up (downloads the lock and close artifacts)" : `${i}/${runs}`}`);
      await page.goto(`${site.url}#/charge`);
      await page.waitForSelector("#station-url");
      await page.$eval("#station-url", (e) => ((e as HTMLInputElement).value = ""));
      await page.type("#station-url", net.station);
      await page.click("#station-url ~ button");
      await page.waitForSelector("#charger ~ button", { timeout: 60_000 });
      await page.click("#charger ~ button");
      await page.waitForSelector("#cap", { timeout: 60_000 });
      await page.select("#cap", "10000000");
      await page.click("input[name=accept-linkable]");
      await page.click("#cap ~ button");
      await waitFor(page, "[data-testid=meter-readings]", /^[3-9]|\d\d/, 600_000);
      await page.click("[data-testid=stop]");
      const done = await waitFor(page, "[data-testid=session-done], #charge-title ~ [role=alert]", /./, 600_000);
      if (!done.startsWith("Session closed")) throw new Error(`session ${i} failed: ${done}`);
      timings.push(
        await page.$eval("[data-testid=proof-times]", (e) => ({
          lockMs: Number(e.getAttribute("data-lock-ms")),
          closeMs: Number(e.getAttribute("data-close-ms")),
        })),
      );
    }
    return {
      warmup: timings[0]!,
      lock: sample(timings.slice(1).map((t) => t.lockMs)),
      close: sample(timings.slice(1).map((t) => t.closeMs)),
      chromium,
    };
  } finally {
    await browser?.close();
    await site?.close();
    await net.stop();
  }
}

/** The report's lines. */
export function webLiveReport(b: WebLiveBench): string {
  return table(
    ["browser proof (Charge screen, wall)", "warm-up (artifacts downloaded)", "timed"],
    [
      [`lock, headless ${b.chromium}`, ms(b.warmup.lockMs), spread(b.lock)],
      [`close, headless ${b.chromium}`, ms(b.warmup.closeMs), spread(b.close)],
    ],
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = Math.max(1, Number(process.env.BENCH_WEB_LIVE_RUNS ?? 2));
  const result = await benchWebLive(runs, (line) => process.stderr.write(`[bench] ${line}\n`));
  console.log(webLiveReport(result));
  process.exit(0);
}
