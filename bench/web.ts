/**
 * The web app, measured: pay proofs made in headless Chromium (the wallet's Web Worker, snarkjs' browser build) side
 * by side with the Node prover in the same run, on the same kind of session (the demo tariff, 70 minutes at 11 kW
 * across the 17:00 boundary), both through `Driver.preparePayment`; the site's first-load size (JS, CSS, HTML and
 * the pay artifacts, gzip) and the explorer's time to show the registry, cold and from a warm cache.
 *
 * `benchWeb()` for bench/bench.ts; standalone: `npx tsx bench/web.ts` (BENCH_WEB_RUNS, default 3 timed pay proofs
 * per side after one warm-up). Needs /usr/bin/chromium (or ZKCHARGE_CHROMIUM).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { JsonRpcProvider } from "ethers";
import type { Page } from "puppeteer-core";
import { Driver, DriverIdentity, sessionReceiptToJson } from "../sdk/index.ts";
import { chargeSession } from "../dev/localNetwork.ts";
import { shutdownProver } from "../prover/index.ts";
import { freePort, startNodeProcess } from "../dev/nodes.ts";
import { WEB_DIST, buildSite, deployDemo, launchChromium, serveSite } from "../scripts/lib/webSite.ts";
import { ms, sample, spread, table, type Sample } from "./stats.ts";

/** Bytes of one group of files, raw and gzip (level 9). */
export interface Size {
  files: number;
  raw: number;
  gzip: number;
}

/** What {@link benchWeb} measured. */
export interface WebBench {
  /** Site code the browser loads before it can show anything (HTML, JS, CSS). */
  app: Size;
  /** The prover worker and snarkjs, loaded on the first proof. */
  proverCode: Size;
  /** Other code loaded when a feature is first used (the QR code decoder and encoder). */
  onDemand: Size;
  /** The pay circuit's artifacts (wasm, zkey, verification key), downloaded once, then from Cache Storage. */
  payArtifacts: Size;
  /** Explorer showing the registry: first visit (empty caches), and a reload (warm caches). */
  explorerColdMs: number;
  explorerWarmMs: number;
  browser: { warmup: PayTiming; witness: Sample; prove: Sample; wall: Sample };
  node: { warmup: PayTiming; witness: Sample; prove: Sample; wall: Sample };
  chromium: string;
}

interface PayTiming {
  witnessMs: number;
  proveMs: number;
  wallMs: number;
}

function sizeOf(paths: string[]): Size {
  let raw = 0;
  let gzip = 0;
  for (const p of paths) {
    const bytes = readFileSync(p);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: paths.length, raw, gzip };
}

/** Waits (bounded) until `selector` has text; returns it. */
async function textOf(page: Page, selector: string, timeout: number): Promise<string> {
  await page.waitForFunction(
    (s: string) => (document.querySelector(s)?.textContent ?? "").trim() !== "",
    { timeout },
    selector,
  );
  return page.$eval(selector, (e) => (e.textContent ?? "").trim());
}

/** Creates a wallet on the site's wallet page and deposits `eur` from the dev account; resolves once it shows. */
export async function createWalletAndDeposit(page: Page, siteUrl: string, eur: number): Promise<void> {
  await page.goto(`${siteUrl}#/wallet`);
  await page.waitForSelector("#passphrase");
  await page.type("#passphrase", "bench passphrase");
  await page.type("#again", "bench passphrase");
  await page.click("button[type=submit]");
  await page.waitForSelector("#amount", { timeout: 60_000 });
  await page.type("#amount", String(eur));
  await page.click("#amount ~ button");
  await page.waitForFunction(
    (want: string) => document.querySelector("[data-testid=balance]")?.textContent === want,
    { timeout: 60_000 },
    `${eur}.00 EUR`,
  );
}

/** Runs the bench; `log` gets progress lines. */
export async function benchWeb(runs = 3, log: (line: string) => void = () => {}): Promise<WebBench> {
  log("web: starting a hardhat node, deploying the demo CPO, building the site");
  const node = await startNodeProcess("hardhat");
  const demo = await deployDemo(node.rpc);
  const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
  let site: Awaited<ReturnType<typeof serveSite>> | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    await buildSite();
    const assets = readdirSync(join(WEB_DIST, "assets")).map((f) => join(WEB_DIST, "assets", f));
    // The first load is what index.html names; every other chunk is imported later, on demand.
    const html = readFileSync(join(WEB_DIST, "index.html"), "utf8");
    const named = new Set([...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => join(WEB_DIST, m[1]!)));
    const later = assets.filter((p) => !named.has(p));
    const isProver = (p: string) => /(worker|browser\.esm)-/.test(p);
    const app = sizeOf([join(WEB_DIST, "index.html"), ...assets.filter((p) => named.has(p))]);
    const proverCode = sizeOf(later.filter(isProver));
    const onDemand = sizeOf(later.filter((p) => !isProver(p)));
    const payDir = join(WEB_DIST, "circuits", "pay");
    const payArtifacts = sizeOf(
      readdirSync(payDir)
        .map((f) => join(payDir, f))
        .filter((p) => statSync(p).isFile()),
    );

    site = await serveSite(demo.site, await freePort());
    browser = await launchChromium();
    const chromium = await browser.version();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });

    const explorer = async () => {
      const t = performance.now();
      await page.goto(`${site!.url}#/explorer`);
      await page.waitForFunction(() => /CPO 1/.test(document.querySelector("[data-testid=cpos]")?.textContent ?? ""), {
        timeout: 60_000,
      });
      return performance.now() - t;
    };
    const explorerColdMs = await explorer();
    const explorerWarmMs = await explorer();

    log("web: wallet in the browser: create, deposit 200 EUR");
    await createWalletAndDeposit(page, site.url, 200);

    const browserRuns: PayTiming[] = [];
    for (let i = 0; i <= runs; i++) {
      log(`web: browser pay proof ${i === 0 ? "warm-up (downloads the artifacts)" : `${i}/${runs}`}`);
      const session = chargeSession(demo.net.meter, demo.net.tariff, demo.net.now, { minutes: 70n });
      const receipt = sessionReceiptToJson(await demo.net.operator.receipt(session));
      await page.$eval("#receipt", (e, v) => ((e as HTMLTextAreaElement).value = v), receipt);
      await page.click("#receipt ~ button");
      const done = await textOf(page, "#pay-title ~ .done, #pay-title ~ .error", 600_000);
      if (!done.startsWith("Paid")) throw new Error(`browser pay failed: ${done}`);
      const out = await page.$eval("[data-testid=pay-proof-ms]", (e) => ({
        wallMs: Number(e.textContent),
        witnessMs: Number(e.getAttribute("data-witness-ms")),
        proveMs: Number(e.getAttribute("data-prove-ms")),
      }));
      browserRuns.push(out);
    }

    log("web: the same payments proved in Node (worker_threads, snarkjs' Node build)");
    const driver = new Driver(DriverIdentity.random(), demo.net.deployment.pool.connect(provider));
    await driver.deposit(200_000_000n, demo.net.signers.other);
    const nodeRuns: PayTiming[] = [];
    for (let i = 0; i <= runs; i++) {
      const session = chargeSession(demo.net.meter, demo.net.tariff, demo.net.now, { minutes: 70n });
      const t = performance.now();
      const payment = await driver.preparePayment(await demo.net.operator.receipt(session));
      nodeRuns.push({ wallMs: performance.now() - t, witnessMs: payment.witnessMs, proveMs: payment.proveMs });
    }

    const summary = (xs: PayTiming[]) => ({
      warmup: xs[0]!,
      witness: sample(xs.slice(1).map((x) => x.witnessMs)),
      prove: sample(xs.slice(1).map((x) => x.proveMs)),
      wall: sample(xs.slice(1).map((x) => x.wallMs)),
    });
    return {
      app,
      proverCode,
      onDemand,
      payArtifacts,
      explorerColdMs,
      explorerWarmMs,
      browser: summary(browserRuns),
      node: summary(nodeRuns),
      chromium,
    };
  } finally {
    await browser?.close();
    await site?.close();
    provider.destroy();
    await demo.close();
    await node.stop();
    await shutdownProver();
  }
}

/** The report's lines. */
export function webReport(b: WebBench): string {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const sizes = table(
    ["first load", "files", "raw", "gzip"],
    [
      ["app (HTML, JS, CSS)", String(b.app.files), kb(b.app.raw), kb(b.app.gzip)],
      ["prover worker + snarkjs", String(b.proverCode.files), kb(b.proverCode.raw), kb(b.proverCode.gzip)],
      ["QR decoder + encoder (on first use)", String(b.onDemand.files), kb(b.onDemand.raw), kb(b.onDemand.gzip)],
      [
        "pay artifacts (once, then cached)",
        String(b.payArtifacts.files),
        kb(b.payArtifacts.raw),
        kb(b.payArtifacts.gzip),
      ],
    ],
  );
  const proofs = table(
    ["pay proof (preparePayment)", "warm-up wall", "witness", "prove", "wall"],
    [
      [
        `headless ${b.chromium}`,
        ms(b.browser.warmup.wallMs),
        spread(b.browser.witness),
        spread(b.browser.prove),
        spread(b.browser.wall),
      ],
      [
        "Node (worker_threads)",
        ms(b.node.warmup.wallMs),
        spread(b.node.witness),
        spread(b.node.prove),
        spread(b.node.wall),
      ],
    ],
  );
  return [
    sizes,
    "",
    `explorer shows the registry: ${ms(b.explorerColdMs)} cold, ${ms(b.explorerWarmMs)} warm`,
    "",
    proofs,
    `browser / Node prove time: ${(b.browser.prove.median / b.node.prove.median).toFixed(2)}x`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = Math.max(1, Number(process.env.BENCH_WEB_RUNS ?? 3));
  const result = await benchWeb(runs, (line) => process.stderr.write(`[bench] ${line}\n`));
  console.log(webReport(result));
  process.exit(0);
}
