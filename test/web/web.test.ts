/**
 * The web app in a real headless Chromium (Debian's /usr/bin/chromium through puppeteer-core; nothing downloaded):
 * a `hardhat node` process started here, zkcharge deployed to it with a demo CPO, the static site built by Vite and
 * served on 127.0.0.1. The explorer shows the registry and, later, a payment; the wallet is created, refuses a wrong
 * passphrase without changing anything, deposits from the dev account, shows the private balance, refuses a
 * tampered proving file and an altered receipt, then proves a payment in the browser (Web Worker, snarkjs) that the
 * chain accepts. A second suite charges live against real station, charger and relayer processes (below).
 * Screenshots of each main screen (desktop and phone) go to test-results/screenshots/.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import type { Browser, Page } from "puppeteer-core";
import {
  EscrowStatus,
  Pool__factory,
  computeBill,
  formatAmount,
  parseAmount,
  readEscrow,
  readEscrowEvents,
  readPayments,
  readPoolState,
  sessionReceiptToJson,
  UnlockedWallet,
  type Pool,
} from "../../sdk/index.ts";
import { chargeSession } from "../../dev/localNetwork.ts";
import { freePort, startNodeProcess, type NodeProcess } from "../../dev/nodes.ts";
import {
  buildSite,
  deployDemo,
  launchChromium,
  liveSiteConfig,
  serveSite,
  type DemoChain,
  type SiteConfigJson,
  type SiteServer,
} from "../../scripts/lib/webSite.ts";
import { startLiveNet, type LiveNet } from "../../scripts/lib/liveNet.ts";
import { TamperProxy } from "../live/tamperProxy.ts";
import { writeQrVideo } from "./fakeCamera.ts";
import { DESKTOP, PASSPHRASE, PHONE, SHOTS, pageSteps } from "./pageSteps.ts";

describe("web app in headless Chromium", function () {
  this.timeout(600_000);
  let node: NodeProcess;
  let demo: DemoChain;
  let site: SiteServer;
  let browser: Browser;
  let page: Page;
  let provider: JsonRpcProvider;
  let pool: Pool;
  const pageErrors: string[] = [];

  const { shot, text, waitText, fill, layoutProblems } = pageSteps(() => page);
  /** Sets a (long) textarea value at once, as a paste would. */
  const paste = (selector: string, value: string) =>
    page.$eval(selector, (e, v) => ((e as HTMLTextAreaElement).value = v), value);
  const walletKey = () => `zkcharge.wallet.31337.${demo.site.deployment.addresses.pool.toLowerCase()}`;
  const stored = () => page.evaluate((k) => localStorage.getItem(k), walletKey());

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    node = await startNodeProcess("hardhat");
    demo = await deployDemo(node.rpc);
    await buildSite();
    site = await serveSite(demo.site, await freePort());
    provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
    pool = Pool__factory.connect(demo.site.deployment.addresses.pool, provider);
    browser = await launchChromium();
    page = await browser.newPage();
    // The page's own errors, in the test's output: what a failing step saw.
    page.on("pageerror", (error) => console.log(`      [page error] ${(error as Error).message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") console.log(`      [page ${m.type()}] ${m.text()}`);
    });
    await page.setViewport(DESKTOP);
    page.on("pageerror", (err) => pageErrors.push(String(err)));
  });

  afterEach(async function () {
    // A failed step: what the page showed, in the test's output.
    if (this.currentTest?.state === "failed" && page)
      console.log(`      [page text] ${(await page.evaluate(() => document.body.innerText)).replace(/\s+/g, " ")}`);
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    provider?.destroy();
    await demo?.close();
    await node?.stop();
  });

  it("explorer: shows the registry's CPO, its meter and tariff, read from the chain", async () => {
    await page.goto(`${site.url}#/explorer`);
    const cpos = await waitText("[data-testid=cpos]", /CPO 1/);
    expect(cpos).to.contain("meter 0: 22 kW");
    expect(cpos).to.contain("0.50 EUR per session");
    expect(cpos).to.contain("17:00–22:00: 0.45 EUR/kWh");
    expect(cpos).to.contain(await demo.net.operator.signer.getAddress());
    expect(await text("[data-testid=payment-count]")).to.equal("0");
    expect(await text("[data-testid=tree-size]")).to.equal("0");
    await shot("explorer-empty");
  });

  it("privacy page: says what the chain reveals and what it does not", async () => {
    await page.goto(`${site.url}#/privacy`);
    const body = await waitText("main", /Nobody can see/);
    expect(body).to.contain("which charge point operator (CPO) was paid");
    expect(body).to.contain("timing is public");
    await shot("privacy");
  });

  it("wallet: create (mismatched passphrases refused, nothing stored), then locked, wrong passphrase refused", async () => {
    await page.goto(`${site.url}#/wallet`);
    await page.waitForSelector("#passphrase");
    await shot("wallet-create");
    await fill("#passphrase", PASSPHRASE);
    await fill("#again", "something else entirely");
    await page.click("button[type=submit]");
    expect(await waitText("[role=alert]", /two passphrases differ/)).to.match(/type the same one twice/);
    expect(await stored(), "a wallet was stored").to.equal(null);

    await fill("#again", PASSPHRASE);
    await page.click("button[type=submit]");
    await waitText("[data-testid=balance]", /0\.00 EUR/);
    const file = JSON.parse((await stored())!) as { kdf: { name: string; N: number }; cipher: { name: string } };
    expect(file.kdf.name).to.equal("scrypt");
    expect(file.kdf.N).to.equal(2 ** 17);
    expect(file.cipher.name).to.equal("xchacha20-poly1305");
    expect(await stored(), "the identity secret is stored in plaintext").to.not.match(/identitySecret/);

    // Lock, then a wrong passphrase: a plain message, still locked, the stored wallet unchanged.
    await page.click(".toolbar button");
    await page.waitForSelector("#unlock");
    const before = await stored();
    await fill("#unlock", "not my passphrase");
    await page.click("button[type=submit]");
    expect(await waitText("[role=alert]", /Wrong passphrase/)).to.contain("nothing was changed");
    expect(await page.$("[data-testid=balance]"), "unlocked with a wrong passphrase").to.equal(null);
    expect(await stored()).to.equal(before);
    await shot("wallet-locked-wrong-passphrase");

    await fill("#unlock", PASSPHRASE);
    await page.click("button[type=submit]");
    await waitText("[data-testid=balance]", /0\.00 EUR/);
  });

  it("wallet: deposit from the dev account (bad amount refused), private balance shown", async () => {
    await fill("#amount", "twenty");
    await page.click("#amount ~ button");
    expect(await waitText("[role=alert]", /not an amount/)).to.contain('"twenty"');
    expect((await pool.queryFilter(pool.filters.Deposited())).length, "a deposit was sent").to.equal(0);

    await fill("#amount", "20");
    await page.click("#amount ~ button");
    await waitText("[data-testid=balance]", /20\.00 EUR/);
    const deposits = await pool.queryFilter(pool.filters.Deposited());
    expect(deposits.map((d) => [d.args.depositor, d.args.value])).to.deep.equal([[demo.site.devAccount, 20_000_000n]]);
    await shot("wallet-deposited");
  });

  it("wallet: a tampered proving file and an altered receipt are refused; nothing is paid", async () => {
    const session = chargeSession(demo.net.meter, demo.net.tariff, demo.net.now, { minutes: 70n });
    const receipt = sessionReceiptToJson(await demo.net.operator.receipt(session));

    // An altered reading: the meter's signature no longer matches.
    const altered = JSON.parse(receipt) as { session: { points: { e: string }[] } };
    altered.session.points[1]!.e = String(BigInt(altered.session.points[1]!.e) - 1000n);
    await paste("#receipt", JSON.stringify(altered));
    await page.click("#receipt ~ button");
    expect(await waitText("#pay-title ~ [role=alert]", /signature does not match/)).to.contain("session receipt");

    // A tampered artifact in the browser's cache (as a bad server or a corrupted download would leave it).
    const wasmUrl = new URL("circuits/pay/pay.wasm", site.url).href;
    await page.evaluate(async (url) => {
      const cache = await caches.open("zkcharge-circuits-v1");
      await cache.put(url, new Response(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])));
    }, wasmUrl);
    await paste("#receipt", receipt);
    await page.click("#receipt ~ button");
    const error = await waitText("#pay-title ~ [role=alert]", /proving file/, 300_000);
    expect(error).to.contain(wasmUrl);
    expect(error).to.contain("not the one this app was built with");
    const cached = await page.evaluate(
      async (url) => (await (await caches.open("zkcharge-circuits-v1")).match(url)) !== undefined,
      wasmUrl,
    );
    expect(cached, "the tampered file stayed in the cache").to.be.false;
    expect(await readPayments(pool)).to.deep.equal([]);
    expect(await text("[data-testid=balance]")).to.equal("20.00 EUR");
    await shot("wallet-tampered-artifact");
  });

  it("wallet: proves a payment in the browser (Web Worker), the chain accepts it, the balance drops", async () => {
    const session = chargeSession(demo.net.meter, demo.net.tariff, demo.net.now, { minutes: 70n });
    const bill = computeBill(session.points, session.tariff, session.ratedPowerW);
    await paste("#receipt", sessionReceiptToJson(await demo.net.operator.receipt(session)));
    await page.click("#receipt ~ button");
    await page.waitForSelector("progress", { timeout: 60_000 });
    await shot("wallet-proving");
    const done = await waitText("#pay-title ~ .done, #pay-title ~ .error", /./, 300_000);
    expect(done).to.equal(`Paid ${formatAmount(bill.amount)} to CPO ${demo.net.operator.cpoId}.`);
    const ms = await text("[data-testid=pay-proof-ms]");
    console.log(`      in-browser pay proof (headless Chromium, Web Worker): ${ms} ms wall`);
    const payments = await readPayments(pool);
    expect(payments.map((p) => [p.kind, p.cpoId, p.sessionId, p.amount])).to.deep.equal([
      ["pay", demo.net.operator.cpoId, session.sessionId, bill.amount],
    ]);
    await waitText("[data-testid=balance]", new RegExp(formatAmount(20_000_000n - bill.amount).replace(".", "\\.")));
    await shot("wallet-paid");
  });

  it("wallet: a session above the private balance is refused in plain words, before any proof", async () => {
    const session = chargeSession(demo.net.meter, demo.net.tariff, demo.net.now, { minutes: 360n, powerW: 22_000n });
    const bill = computeBill(session.points, session.tariff, session.ratedPowerW);
    const balance = await text("[data-testid=balance]");
    await paste("#receipt", sessionReceiptToJson(await demo.net.operator.receipt(session)));
    await page.click("#receipt ~ button");
    const error = await waitText("#pay-title ~ .error", /Not enough private balance/);
    expect(error).to.contain(`less than the session total ${formatAmount(bill.amount)}`);
    expect(await page.$("progress"), "a proof was started").to.equal(null);
    expect(await readPayments(pool)).to.have.length(1);
    expect(await text("[data-testid=balance]")).to.equal(balance);
  });

  it("wallet: the backup download is the encrypted wallet; after a reload the wallet syncs from IndexedDB", async () => {
    const backup = await page.evaluate(async () => {
      const link = document.querySelector("a[download]") as HTMLAnchorElement;
      return (await fetch(link.href)).text();
    });
    expect(backup).to.equal(await stored());
    const balance = await text("[data-testid=balance]");
    await page.reload();
    await page.waitForSelector("#unlock");
    await fill("#unlock", PASSPHRASE);
    await page.click("button[type=submit]");
    await waitText("[data-testid=balance]", new RegExp(`^${balance.replace(".", "\\.")}$`));
    const cursor = await page.evaluate(
      (key) =>
        new Promise<number | undefined>((resolve, reject) => {
          const open = indexedDB.open("zkcharge");
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction("pool-sync").objectStore("pool-sync").get(key);
            get.onsuccess = () =>
              resolve((get.result as { blocks: [number, string][] } | undefined)?.blocks.at(-1)?.[0]);
            get.onerror = () => reject(get.error);
          };
        }),
      `31337:${demo.site.deployment.addresses.pool.toLowerCase()}`,
    );
    expect(cursor, "no sync cursor in IndexedDB").to.equal(await provider.getBlockNumber());
    // The note scan is in the encrypted wallet (never in IndexedDB): every leaf scanned, the deposit and the
    // payment's change among the notes found, so a reload decrypts no leaf again.
    const opened = await UnlockedWallet.open((await stored())!, PASSPHRASE);
    const scan = (opened.contents.data as { scan?: { scanned: number; found: [number, string, string][] } }).scan;
    expect(scan, "no note scan in the wallet").to.not.equal(undefined);
    expect(scan!.scanned).to.equal((await readPoolState(pool)).leaves.length);
    const values = scan!.found.map(([, value]) => formatAmount(BigInt(value)));
    expect(values).to.include.members(["20.00 EUR", balance]);

    // The same backup imported in a fresh browser profile (no storage shared) opens to the same balance.
    const fresh = await browser.createBrowserContext();
    try {
      const other = await fresh.newPage();
      await other.goto(`${site.url}#/wallet`);
      await other.waitForSelector("[role=tab]");
      const [, importTab] = await other.$$("[role=tab]");
      await importTab!.click();
      await other.waitForSelector("#backup");
      await other.$eval("#backup", (e, v) => ((e as HTMLTextAreaElement).value = v), backup);
      await other.type("#passphrase", "wrong passphrase here");
      await other.click("button[type=submit]");
      await other.waitForFunction(() =>
        /Wrong passphrase/.test(document.querySelector("[role=alert]")?.textContent ?? ""),
      );
      await other.$eval("#passphrase", (e) => ((e as HTMLInputElement).value = ""));
      await other.type("#passphrase", PASSPHRASE);
      await other.click("button[type=submit]");
      await other.waitForFunction(
        (b: string) => document.querySelector("[data-testid=balance]")?.textContent === b,
        { timeout: 60_000 },
        balance,
      );
      await other.screenshot({ path: join(SHOTS, "wallet-imported.png"), fullPage: true });
    } finally {
      await fresh.close();
    }
  });

  it("explorer: shows the payment (cpoId, tariff, amount) and nothing naming the driver", async () => {
    await page.goto(`${site.url}#/explorer`);
    const [payment] = await readPayments(pool);
    const table = await waitText("[data-testid=payments]", /pay proof/);
    expect(table).to.contain(formatAmount(payment!.amount));
    expect(table).to.contain(payment!.tariffHash!.toString().slice(0, 8));
    expect(await text("[data-testid=payment-count]")).to.equal("1");
    // The deposit and the payment's change note: the anonymity set.
    expect(await text("[data-testid=tree-size]")).to.equal("2");
    const main = await text("main");
    expect(main.toLowerCase()).to.not.contain(demo.site.devAccount!.toLowerCase());
    await shot("explorer-paid");
  });

  it("phone-sized screen: no page-wide horizontal scrolling, every field labelled", async () => {
    await page.setViewport(PHONE);
    for (const route of ["explorer", "wallet", "privacy"]) {
      await page.goto(`${site.url}#/${route}`);
      await page.waitForSelector("main h1");
      await new Promise((r) => setTimeout(r, 300)); // layout after the data arrives
      const { overflow, unlabelled } = await layoutProblems();
      expect(overflow, `#/${route} scrolls sideways on a phone`).to.be.at.most(0);
      expect(unlabelled, `unlabelled fields on #/${route}`).to.deep.equal([]);
      await shot(`phone-${route}`);
    }
    await page.setViewport(DESKTOP);
    expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
  });
});

/**
 * Live charging in the browser against real processes (scripts/lib/liveNet.ts, as `npm run web` and `demo:live`
 * start them): a `hardhat node`, zkcharge deployed by configuration, the relayer, the station (OCPP CSMS + driver
 * API, on another origin than the site: CORS) and a charger, each its own process, killed by its PID after. The
 * driver deposits, charges (lock and close proved in the browser, every reading verified there), sees the
 * session in the history and withdraws through the relayer; a station that rewrites a reading is caught; a session
 * the page was closed on is resumed after a reload and settled. Seven proofs in all (three locks, three closes, a
 * withdrawal).
 */
describe("web app: live charging, history and withdraw in headless Chromium", function () {
  this.timeout(900_000);
  let net: LiveNet;
  let site: SiteServer;
  let browser: Browser;
  let page: Page;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let config: SiteConfigJson;
  let chargerLink: string;
  const pageErrors: string[] = [];

  const { shot, text, waitText, fill, layoutProblems } = pageSteps(() => page);
  const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const escrows = async () => (await readEscrowEvents(pool, { fromBlock: config.deployment.deploymentBlock })).locked;
  const tokenBalance = async (who: string) =>
    (await new Contract(
      config.deployment.addresses.token,
      ["function balanceOf(address) view returns (uint256)"],
      provider,
    ).getFunction("balanceOf")(who)) as bigint;

  /** Looks up `stationUrl`, takes CS001's offer and locks `cap` (linkable accepted): the session starts. */
  const lockAndStart = async (stationUrl: string, cap: bigint) => {
    await fill("#station-url", stationUrl);
    await page.click("#station-url ~ button");
    await waitText("[data-testid=station]", /serves this wallet's pool/);
    await page.click("#charger ~ button");
    await waitText("[data-testid=offer-checked]", /Checked against the registry/);
    await page.select("#cap", cap.toString());
    await page.click("input[name=accept-linkable]");
    await page.click("#cap ~ button");
  };

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), "zkcharge-web-live-"));
    const sitePort = await freePort();
    net = await startLiveNet({ dir, chargers: ["CS001"], adminCorsOrigins: [`http://127.0.0.1:${sitePort}`] });
    config = liveSiteConfig(net);
    await buildSite();
    site = await serveSite(config, sitePort);
    provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
    pool = Pool__factory.connect(config.deployment.addresses.pool, provider);
    // The browser's camera films CS001's code, as the CPO dashboard draws it (test/web/cpo.test.ts).
    chargerLink = `${site.url}#/charge?${new URLSearchParams({ station: net.station, charger: "CS001" })}`;
    writeQrVideo(join(dir, "camera.y4m"), chargerLink);
    browser = await launchChromium({ camera: join(dir, "camera.y4m") });
    page = await browser.newPage();
    page.on("pageerror", (error) => {
      console.log(`      [page error] ${(error as Error).message}`);
      pageErrors.push(String(error));
    });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") console.log(`      [page ${m.type()}] ${m.text()}`);
    });
    await page.setViewport(DESKTOP);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && page)
      console.log(`      [page text] ${(await page.evaluate(() => document.body.innerText)).replace(/\s+/g, " ")}`);
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    provider?.destroy();
    await net?.stop();
  });

  it("a new wallet deposits 30 EUR from the dev account", async () => {
    await page.goto(`${site.url}#/wallet`);
    await page.waitForSelector("#passphrase");
    await fill("#passphrase", PASSPHRASE);
    await fill("#again", PASSPHRASE);
    await page.click("button[type=submit]");
    await waitText("[data-testid=balance]", /0\.00 EUR/);
    await fill("#amount", "30");
    await page.click("#amount ~ button");
    await waitText("[data-testid=balance]", /30\.00 EUR/);
  });

  it("charge: a URL that is not a station, or nothing at all, gives a plain message and changes nothing", async () => {
    await page.goto(`${site.url}#/charge`);
    await page.waitForSelector("#station-url");
    await fill("#station-url", net.relayer);
    await page.click("#station-url ~ button");
    expect(await waitText("#charge-title ~ [role=alert]", /not a zkcharge station/)).to.contain(net.relayer);
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await fill("#station-url", nobody);
    await page.click("#station-url ~ button");
    expect(await waitText("#charge-title ~ [role=alert]", /does not answer/)).to.contain(`${nobody} does not answer`);
    expect(await page.$("[data-testid=offer]"), "an offer was shown").to.equal(null);
    expect(await escrows()).to.deep.equal([]);
    expect(await text("[data-testid=balance]")).to.equal("30.00 EUR");
    await shot("charge-not-a-station");
  });

  it("charge: the charger's QR code, scanned with the camera, opens its offer; its link does too in a new tab", async () => {
    const value = (selector: string) => page.$eval(selector, (e) => (e as HTMLInputElement).value);
    await page.goto(`${site.url}#/charge`);
    await page.click("[data-testid=scan-camera]");
    await waitText("[data-testid=offer-checked]", /Checked against the registry/);
    expect(await value("#station-url")).to.equal(net.station);
    expect(await value("#charger")).to.equal("CS001");
    expect(
      await page.$eval("[data-testid=qr-scan] video", (v) => (v as HTMLVideoElement).hidden),
      "camera on",
    ).to.equal(true);
    await shot("charge-scanned");

    // A phone's camera app opens the code's link in a new tab: the wallet asks for its passphrase, then the offer.
    const tab = await browser.newPage();
    try {
      await tab.setViewport(PHONE);
      await tab.goto(chargerLink);
      await tab.waitForSelector("#unlock");
      await tab.type("#unlock", PASSPHRASE);
      await tab.click("button[type=submit]");
      await tab.waitForFunction(
        () =>
          /Checked against the registry/.test(document.querySelector("[data-testid=offer-checked]")?.textContent ?? ""),
        { timeout: 60_000, polling: 200 },
      );
      expect(await tab.$eval("#charger", (e) => (e as HTMLSelectElement).value)).to.equal("CS001");
      await tab.screenshot({ path: join(SHOTS, "charge-link-phone.png"), fullPage: true });
    } finally {
      await tab.close();
    }
    expect(await escrows(), "an escrow was locked").to.deep.equal([]);
  });

  it("charge: the offer in plain words, checked against the registry; a cap above the balance is refused", async () => {
    await fill("#station-url", net.station);
    await page.click("#station-url ~ button");
    await waitText("[data-testid=station]", /CPO 1: serves this wallet's pool/);
    await page.click("#charger ~ button");
    const checked = await waitText("[data-testid=offer-checked]", /Checked against the registry/);
    expect(checked).to.contain(`published by CPO ${net.cpoId}`);
    expect(checked).to.contain("22.00 kW) is in its meter tree");
    const tariff = await text("[data-testid=tariff]");
    expect(tariff).to.contain(`${formatAmount(net.tariff.flatFee)} per session`);
    expect(tariff).to.contain(`${formatAmount(net.tariff.energyPrice[0])}/kWh`);
    expect(await text("[data-testid=price-example]")).to.match(
      /11\.00 kWh in 1 hour at 11\.00 kW from .* costs \d+\.\d+ EUR/,
    );
    await shot("charge-offer");

    await page.select("#cap", "50000000");
    await page.click("#cap ~ button");
    expect(await waitText("#charge-title ~ [role=alert]", /Not enough private balance/)).to.contain("50.00 EUR");
    expect(await escrows(), "an escrow was locked").to.deep.equal([]);
    expect(await text("[data-testid=balance]")).to.equal("30.00 EUR");
  });

  it("charge: locks through the relayer (proof in the browser), verifies readings live, stops, closes with a browser proof", async () => {
    const cpoBefore = await pool.cpoBalance(net.cpoId);
    await page.select("#cap", "10000000");
    await page.click("input[name=accept-linkable]");
    await page.click("#cap ~ button");
    await page.waitForSelector("[data-testid=live] progress", { timeout: 60_000 });
    await shot("charge-proving-lock");
    // Readings arrive and are verified here until some energy has flowed (bounded by the wait's timeout).
    await page.waitForFunction(
      () => Number(document.querySelector("[data-testid=meter-kwh]")?.getAttribute("data-wh") ?? 0) >= 5,
      { timeout: 300_000, polling: 250 },
    );
    expect(Number(await text("[data-testid=meter-readings]"))).to.be.at.least(3);
    await shot("charge-live-meter");
    const [locked] = await escrows();
    expect(locked, "no escrow on chain").to.not.equal(undefined);
    expect(locked!.cap).to.equal(10_000_000n);
    await page.click("[data-testid=stop]");
    const done = await waitText("[data-testid=session-done], #charge-title ~ [role=alert]", /./, 300_000);
    expect(done).to.match(/^Session closed: /);
    const bill = BigInt((await page.$eval("[data-testid=meter-cost]", (e) => e.getAttribute("data-amount")))!);
    expect(bill > net.tariff.flatFee, "no energy or time billed").to.equal(true);
    const escrow = await readEscrow(pool, locked!.escrowId);
    expect(escrow.status).to.equal(EscrowStatus.Closed);
    const closed = (await readEscrowEvents(pool, { fromBlock: config.deployment.deploymentBlock })).closed;
    expect(closed.get(locked!.escrowId)?.amount, "the close's amount").to.equal(bill);
    expect(closed.get(locked!.escrowId)?.mode, "closed from the session end (mode 0)").to.equal(0n);
    expect((await pool.cpoBalance(net.cpoId)) - cpoBefore, "the CPO's earnings").to.equal(bill);
    expect(done).to.contain(`paid ${formatAmount(bill)}`);
    const times = await page.$eval("[data-testid=proof-times]", (e) => [
      e.getAttribute("data-lock-ms"),
      e.getAttribute("data-close-ms"),
    ]);
    console.log(`      in-browser lock proof ${times[0]} ms, close proof ${times[1]} ms (wall, headless Chromium)`);
    await shot("charge-closed");
  });

  it("charge: a reading that breaks a rule is refused in plain words, the session stops, only verified readings are paid", async () => {
    // A station whose backend rewrites a live reading (the honest station behind it stores and bills the real one).
    const proxy = new TamperProxy(net.station, {
      atSeqNo: 3,
      tamper: (r) => ({ ...r, signature: { ...r.signature, S: r.signature.S + 1n } }),
    });
    await proxy.listen();
    try {
      const before = await escrows();
      await lockAndStart(proxy.url, 10_000_000n);
      const refused = await waitText("[data-testid=live] [role=alert]", /was refused/, 300_000);
      expect(refused).to.match(
        new RegExp(`^Reading ${proxy.tampered} was refused and is not paid: .*bad meter signature`),
      );
      await shot("charge-reading-refused");
      const done = await waitText("[data-testid=session-done], #charge-title ~ [role=alert]", /./, 300_000);
      expect(done).to.match(/^Session closed: /);
      const locked = (await escrows()).filter((e) => !before.some((b) => b.escrowId === e.escrowId));
      expect(locked).to.have.length(1);
      expect((await readEscrow(pool, locked[0]!.escrowId)).status).to.equal(EscrowStatus.Closed);
      const bill = BigInt((await page.$eval("[data-testid=meter-cost]", (e) => e.getAttribute("data-amount")))!);
      const closed = (await readEscrowEvents(pool, { fromBlock: config.deployment.deploymentBlock })).closed;
      expect(closed.get(locked[0]!.escrowId)?.amount, "paid more than the verified readings' bill").to.equal(bill);
    } finally {
      await proxy.close();
    }
  });

  it("charge: the page closed mid-session; after a reload the wallet resumes it, verifies every reading again and settles", async () => {
    const before = await escrows();
    // 5 EUR: after two sessions no single note covers 10 EUR plus the relayer's fee.
    await lockAndStart(net.station, 5_000_000n);
    const readingsAtLeast = (n: number) =>
      page.waitForFunction(
        (min: number) => Number(document.querySelector("[data-testid=meter-readings]")?.textContent ?? 0) >= min,
        { timeout: 300_000, polling: 250 },
        n,
      );
    await readingsAtLeast(2);
    const seenBefore = Number(await text("[data-testid=meter-readings]"));
    const [locked] = (await escrows()).filter((e) => !before.some((b) => b.escrowId === e.escrowId));
    expect(locked, "no escrow on chain").to.not.equal(undefined);

    // The tab goes away mid-session (the charger keeps charging); the driver comes back and unlocks the wallet.
    await page.goto("about:blank");
    await page.goto(`${site.url}#/charge`);
    await page.waitForSelector("#unlock");
    await fill("#unlock", PASSPHRASE);
    await page.click("button[type=submit]");
    const card = await waitText("[data-testid=unfinished]", /Unfinished sessions/);
    expect(card).to.contain("CS001").and.contain("5.00 EUR locked");
    await shot("charge-unfinished");
    await page.click("[data-testid=unfinished] button");
    // Every reading from the first is verified again, then the new ones as they come.
    await readingsAtLeast(seenBefore + 2);
    expect((await readEscrow(pool, locked!.escrowId)).status, "settled before the stop").to.equal(EscrowStatus.Open);
    await page.click("[data-testid=stop]");
    const done = await waitText("[data-testid=session-done], #charge-title ~ [role=alert]", /./, 300_000);
    expect(done).to.match(/^Session closed: /);
    const bill = BigInt((await page.$eval("[data-testid=meter-cost]", (e) => e.getAttribute("data-amount")))!);
    const closed = (await readEscrowEvents(pool, { fromBlock: config.deployment.deploymentBlock })).closed;
    expect(closed.get(locked!.escrowId)?.amount, "the close's amount").to.equal(bill);
    expect(closed.get(locked!.escrowId)?.mode, "closed from the session end (mode 0)").to.equal(0n);
    expect(await page.$("[data-testid=unfinished]"), "still listed as unfinished").to.equal(null);
    await shot("charge-resumed-closed");
  });

  it("history: the session with its CPO, energy, amount, refund and state, from the encrypted wallet", async () => {
    await page.goto(`${site.url}#/history`);
    const row = await waitText("[data-testid=history] tr[data-session=s1]", /closed/);
    const closed = [
      ...(await readEscrowEvents(pool, { fromBlock: config.deployment.deploymentBlock })).closed.values(),
    ][0]!;
    expect(row).to.contain(`CPO ${net.cpoId}`);
    expect(row).to.contain(formatAmount(closed.amount));
    expect(row).to.contain(formatAmount(10_000_000n - closed.amount));
    expect(row).to.contain("closed by the wallet's proof");
    expect(row).to.match(/\d+\.\d\d kWh/);
    const stored = await page.evaluate(
      (k) => localStorage.getItem(k),
      `zkcharge.wallet.31337.${config.deployment.addresses.pool.toLowerCase()}`,
    );
    expect(stored, "the history is stored in plaintext").to.not.match(/sessionId|CS001/);
    await shot("history");
  });

  it("withdraw: an amount above the balance is refused; then the relayer's quote, the proof, the job mined", async () => {
    const recipient = Wallet.createRandom().address;
    await page.goto(`${site.url}#/wallet`);
    await page.waitForSelector("#withdraw-to");
    const balance = await waitText("[data-testid=balance]", /^\d+\.\d+ EUR$/);
    await fill("#withdraw-to", recipient);
    await fill("#withdraw-amount", "500");
    await page.click("#withdraw-amount ~ button");
    await page.waitForSelector("[data-testid=withdraw-quote]");
    await page.click("[data-testid=withdraw-quote] button");
    expect(await waitText("#withdraw-title ~ [role=alert]", /Not enough private balance/)).to.contain("plus fee");
    expect(await tokenBalance(recipient)).to.equal(0n);
    expect(await text("[data-testid=balance]")).to.equal(balance);

    await fill("#withdraw-amount", "5.00");
    await page.click("#withdraw-amount ~ button");
    const quote = await page.waitForSelector("[data-testid=withdraw-quote]");
    const fee = BigInt((await quote!.evaluate((e) => e.getAttribute("data-fee")))!);
    expect(await text("[data-testid=withdraw-quote]")).to.contain(`Relayer fee ${formatAmount(fee)}`);
    await shot("wallet-withdraw-quote");
    await page.click("input[name=withdraw-linkable]");
    await page.click("[data-testid=withdraw-quote] button");
    const done = await waitText("#withdraw-title ~ .done, #withdraw-title ~ .error", /./, 300_000);
    expect(done).to.match(/mined in 0x[0-9a-f]{64}/);
    expect(await tokenBalance(recipient), "the recipient's tokens").to.equal(5_000_000n - fee);
    await waitText(
      "[data-testid=balance]",
      new RegExp(`^${escapeRe(formatAmount(parseAmount(balance.replace(" EUR", "")) - 5_000_000n))}$`),
    );
    await shot("wallet-withdrawn");
  });

  it("the CPO dashboard shows the browser's sessions with their bills and the earnings; the explorer, the closes and no driver", async () => {
    const payments = (await readPayments(pool, { fromBlock: config.deployment.deploymentBlock })).filter(
      (x) => x.cpoId === net.cpoId,
    );
    expect(payments.map((x) => x.kind)).to.deep.equal(["escrow-end", "escrow-end", "escrow-end"]);
    await page.goto(`${site.url}#/cpo`);
    await page.waitForSelector("#admin-url");
    await fill("#admin-url", net.admin);
    await fill("#admin-token", net.adminToken);
    await page.click("[data-testid=admin-connect] button");
    for (const payment of payments) {
      const row = await waitText(`[data-testid=sessions] tr[data-session="${payment.sessionId}"]`, /closed/);
      expect(row).to.contain(`closed (driver's proof, session end), ${formatAmount(payment.amount)}`);
    }
    const earned = payments.reduce((sum, x) => sum + x.amount, 0n);
    await page.waitForSelector(`[data-testid=earned][data-amount="${earned}"]`);
    expect(await page.$eval("[data-testid=cpo-balance]", (e) => e.getAttribute("data-amount"))).to.equal(
      String(await pool.cpoBalance(net.cpoId)),
    );
    await shot("cpo-browser-sessions");

    await page.goto(`${site.url}#/explorer`);
    const table = await waitText("[data-testid=payments]", /escrow/);
    for (const payment of payments) expect(table).to.contain(formatAmount(payment.amount));
    const main = (await text("main")).toLowerCase();
    // The deposit's account is on chain (a deposit is public); nothing on the page ties a payment to it.
    expect(main).to.not.contain(config.devAccount!.toLowerCase());
    await shot("explorer-live-closes");
  });

  it("phone-sized screen: the Charge and History screens fit, every field labelled", async () => {
    await page.setViewport(PHONE);
    for (const route of ["charge", "history"]) {
      await page.goto(`${site.url}#/${route}`);
      await page.waitForSelector("main h1");
      await new Promise((r) => setTimeout(r, 300));
      const { overflow, unlabelled } = await layoutProblems();
      expect(overflow, `#/${route} scrolls sideways on a phone`).to.be.at.most(0);
      expect(unlabelled, `unlabelled fields on #/${route}`).to.deep.equal([]);
      await shot(`phone-${route}`);
    }
    await page.setViewport(DESKTOP);
    expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
  });
});
