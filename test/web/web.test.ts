/**
 * The web app in a real headless Chromium (Debian's /usr/bin/chromium through puppeteer-core; nothing downloaded):
 * a `hardhat node` process started here, zkcharge deployed to it with a demo CPO, the static site built by Vite and
 * served on 127.0.0.1. The explorer shows the registry and, later, a payment; the wallet is created, refuses a wrong
 * passphrase without changing anything, deposits from the dev account, shows the private balance, refuses a
 * tampered proving file and an altered receipt, then proves a payment in the browser (Web Worker, snarkjs) that the
 * chain accepts. Screenshots of each main screen (desktop and phone) go to test-results/screenshots/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import type { Browser, Page } from "puppeteer-core";
import {
  Pool__factory,
  computeBill,
  formatAmount,
  readPayments,
  sessionReceiptToJson,
  type Pool,
} from "../../sdk/index.ts";
import { chargeSession } from "../../dev/localNetwork.ts";
import { REPO_ROOT } from "../../prover/node/fileSource.ts";
import { freePort, startNodeProcess, type NodeProcess } from "../../dev/nodes.ts";
import {
  buildSite,
  deployDemo,
  launchChromium,
  serveSite,
  type DemoChain,
  type SiteServer,
} from "../../scripts/lib/webSite.ts";

const SHOTS = join(REPO_ROOT, "test-results", "screenshots");
const PASSPHRASE = "correct horse battery staple";
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { width: 1280, height: 900 };

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

  const shot = async (name: string) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const text = (selector: string) => page.$eval(selector, (e) => (e as HTMLElement).innerText);
  /** Waits until `selector`'s text matches `pattern` (bounded by `timeout`), and returns it. */
  const waitText = async (selector: string, pattern: RegExp, timeout = 60_000) => {
    await page.waitForFunction(
      (sel: string, src: string, flags: string) => {
        const el = document.querySelector(sel) as HTMLElement | null;
        return el !== null && new RegExp(src, flags).test(el.innerText);
      },
      { timeout, polling: 200 },
      selector,
      pattern.source,
      pattern.flags,
    );
    return text(selector);
  };
  const fill = async (selector: string, value: string) => {
    await page.$eval(selector, (e) => ((e as HTMLInputElement).value = ""));
    await page.type(selector, value);
  };
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
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `#/${route} scrolls sideways on a phone`).to.be.at.most(0);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input, textarea")]
          .filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute("aria-label"))
          .map((e) => e.id || e.outerHTML),
      );
      expect(unlabelled, `unlabelled fields on #/${route}`).to.deep.equal([]);
      await shot(`phone-${route}`);
    }
    await page.setViewport(DESKTOP);
    expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
  });
});
