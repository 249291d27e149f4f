/**
 * The CPO dashboard (`#/cpo`) in a real headless Chromium against real processes (scripts/lib/liveNet.ts, as
 * `npm run web` starts them): a `hardhat node`, zkcharge deployed by configuration, the relayer, the station (its
 * admin API with a fresh admin token, answering only the site's origin) and a charger, each its own process,
 * killed by its PID after. One session is charged by the zkcharge CLI wallet (its lock and close proved in Node);
 * the dashboard shows it with its readings, bill and power curve, and the CPO's earnings as the chain has them.
 * The CPO's transactions are signed through an EIP-1193 provider injected into the page that forwards `request` to
 * the test's hardhat node (`eth_sendTransaction` on the node's unlocked CPO admin account), or the dev path:
 * a tariff imported from OCPI JSON is published, a bad one refused naming the OCPI feature with nothing sent, a meter
 * added then revoked, the earnings withdrawn. The Wallet screen deposits through the same injected provider. The
 * dashboard's QR code of the charger, photographed (its screenshot given to the wallet's photo input), opens that
 * charger's offer in the wallet.
 */
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import type { Browser, ElementHandle, Page } from "puppeteer-core";
import {
  Meter,
  Pool__factory,
  Registry__factory,
  formatAmount,
  readCpoWithdrawals,
  readEscrowEvents,
  readPayments,
  readRegistry,
  type Pool,
  type Registry,
} from "../../sdk/index.ts";
import { REPO_ROOT } from "../../prover/node/fileSource.ts";
import { freePort } from "../../dev/nodes.ts";
import {
  buildSite,
  launchChromium,
  liveSiteConfig,
  serveSite,
  type SiteConfigJson,
  type SiteServer,
} from "../../scripts/lib/webSite.ts";
import { LIVE_PAYER, runWallet, startLiveNet, type LiveNet } from "../../scripts/lib/liveNet.ts";
import { DESKTOP, PASSPHRASE, PHONE, SHOTS, pageSteps } from "./pageSteps.ts";

/** The dev node's account 1: the CPO's admin in a live network (unlocked on the node). */
const CPO_ADMIN = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OCPI_GOOD = join(REPO_ROOT, "test", "sdk", "fixtures", "ocpi", "time_of_day_energy.json");

/**
 * A minimal EIP-1193 provider, put in the page before its scripts run: `eth_requestAccounts` / `eth_accounts`
 * answer the account the test chose (`window.__eip1193Account`), everything else is forwarded as JSON-RPC to the
 * node at `rpc` (a real provider interface to a real node; the node signs for its unlocked accounts).
 */
function injectProvider(rpc: string) {
  let id = 0;
  const w = window as unknown as { ethereum: unknown; __eip1193Account?: string; __eip1193Calls: string[] };
  w.__eip1193Calls = [];
  w.ethereum = {
    async request({ method, params }: { method: string; params?: unknown[] }) {
      w.__eip1193Calls.push(method);
      if (method === "eth_requestAccounts" || method === "eth_accounts")
        return w.__eip1193Account ? [w.__eip1193Account] : [];
      const res = await fetch(rpc, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params ?? [] }),
      });
      const body = (await res.json()) as {
        result?: unknown;
        error?: { code: number; message: string; data?: unknown };
      };
      if (body.error) throw Object.assign(new Error(body.error.message), body.error);
      return body.result;
    },
    on() {},
    removeListener() {},
  };
}

describe("web app: the CPO dashboard in headless Chromium", function () {
  this.timeout(900_000);
  let net: LiveNet;
  let site: SiteServer;
  let browser: Browser;
  let page: Page;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let registry: Registry;
  let config: SiteConfigJson;
  let sessionId: string;
  const pageErrors: string[] = [];

  const { shot, text, waitText, fill, layoutProblems } = pageSteps(() => page);
  const opts = () => ({ fromBlock: config.deployment.deploymentBlock });
  /** A GET on the station's admin API from here, with the network's token, another one, or none (`null`). */
  const admin = async <T>(path: string, token: string | null = net.adminToken) => {
    const res = await fetch(net.admin + path, { headers: token !== null ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as T };
  };
  const useAccount = (account: string) =>
    page.evaluate((a) => ((window as { __eip1193Account?: string }).__eip1193Account = a), account);
  const connect = async (token = net.adminToken) => {
    await page.waitForSelector("#admin-url");
    await fill("#admin-url", net.admin);
    await fill("#admin-token", token);
    await page.click("[data-testid=admin-connect] button");
  };
  const cpo = async () => (await readRegistry(registry, opts())).find((c) => c.cpoId === net.cpoId)!;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const sitePort = await freePort();
    net = await startLiveNet({
      dir: mkdtempSync(join(tmpdir(), "zkcharge-web-cpo-")),
      chargers: ["CS001"],
      adminCorsOrigins: [`http://127.0.0.1:${sitePort}`],
    });
    config = liveSiteConfig(net);
    provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
    pool = Pool__factory.connect(config.deployment.addresses.pool, provider);
    registry = Registry__factory.connect(config.deployment.addresses.registry, provider);
    // One finished session, charged by the CLI wallet (lock and close proved in Node), while the site builds.
    const session = async () => {
      for (const args of [
        ["create", "--scrypt-log-n", "10"],
        ["deposit", "--amount", "20.00"],
        [
          "charge",
          ...["--station", net.station, "--charger", "CS001", "--cap", "5.00", "--relayer", net.relayer],
          ...["--accept-linkable", "--stop-after-seconds", "8"],
        ],
      ]) {
        const r = await runWallet(net, args);
        expect(r.code, r.out).to.equal(0);
      }
    };
    await Promise.all([session(), buildSite()]);
    site = await serveSite(config, sitePort);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.evaluateOnNewDocument(injectProvider, net.rpc);
    page.on("pageerror", (error) => {
      console.log(`      [page error] ${(error as Error).message}`);
      pageErrors.push(String(error));
    });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") console.log(`      [page ${m.type()}] ${m.text()}`);
    });
    await page.setViewport(DESKTOP);
    const { sessions } = (await admin<{ sessions: { sessionId: string }[] }>("/admin/sessions")).body;
    expect(sessions).to.have.length(1);
    sessionId = sessions[0]!.sessionId;
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

  it("the admin API is protected: no token or a wrong one gets 401, other origins get no CORS, the page shows nothing", async () => {
    expect((await admin("/admin/sessions", null)).status).to.equal(401);
    expect((await admin("/admin/sessions", "x".repeat(64))).status).to.equal(401);
    const preflight = await fetch(`${net.admin}/admin/sessions`, {
      method: "OPTIONS",
      headers: {
        origin: "http://evil.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    expect(preflight.headers.get("access-control-allow-origin"), "CORS for another origin").to.equal(null);

    await page.goto(`${site.url}#/cpo`);
    await connect("not-the-admin-token-" + "0".repeat(40));
    const error = await waitText("#connect-title ~ [role=alert]", /refused the admin token/);
    expect(error).to.contain("wrong or missing");
    expect(await page.$("[data-testid=sessions]"), "sessions shown with a wrong token").to.equal(null);
    expect(await page.$("[data-testid=chargers]"), "chargers shown with a wrong token").to.equal(null);
    expect(await page.$("[data-testid=earned]"), "earnings shown with a wrong token").to.equal(null);
    await shot("cpo-wrong-token");
  });

  it("shows the charger, the finished session with its readings, bill and power curve, and the earnings the chain has", async () => {
    await connect();
    const charger = await waitText("[data-testid=chargers] tr[data-charger=CS001]", /connected/);
    expect(charger).to.contain("22.00 kW");
    const row = await waitText(`[data-testid=sessions] tr[data-session="${sessionId}"]`, /closed/);
    const { closed, locked } = await readEscrowEvents(pool, opts());
    expect(locked).to.have.length(1);
    const amount = closed.get(locked[0]!.escrowId)!.amount;
    expect(row).to.contain(`closed (driver's proof, session end), ${formatAmount(amount)}`);
    expect(row).to.contain(formatAmount(locked[0]!.cap));

    // The chain's view of the CPO: its payments add up to what the dashboard shows, and to the pool balance.
    const payments = (await readPayments(pool, opts())).filter((p) => p.cpoId === net.cpoId);
    const earned = payments.reduce((s, p) => s + p.amount, 0n);
    expect(earned).to.equal(amount);
    expect(await page.$eval("[data-testid=earned]", (e) => e.getAttribute("data-amount"))).to.equal(String(earned));
    expect(await page.$eval("[data-testid=cpo-balance]", (e) => e.getAttribute("data-amount"))).to.equal(
      String(await pool.cpoBalance(net.cpoId)),
    );
    const bars = (
      await page.$$eval("[data-testid=earnings-chart] rect.bar", (rs) => rs.map((r) => r.getAttribute("data-amount")!))
    ).map(BigInt);
    expect(bars).to.have.length(14);
    expect(
      bars.reduce((s, b) => s + b, 0n),
      "earnings per day add up",
    ).to.equal(earned);
    await shot("cpo-dashboard");

    await page.click(`[data-testid=sessions] tr[data-session="${sessionId}"] button`);
    const bill = await page.waitForSelector("[data-testid=session-bill][data-amount]:not([data-amount=''])");
    expect(await bill!.evaluate((e) => e.getAttribute("data-amount")), "the session's bill").to.equal(String(amount));
    const stored = (await admin<{ readings: unknown[] }>(`/admin/sessions/${sessionId}`)).body.readings;
    expect(stored.length).to.be.at.least(3);
    const curve = await page.$eval("[data-testid=power-curve]", (svg) => ({
      points: Number(svg.getAttribute("data-points")),
      vertices: svg.querySelector("polyline")!.getAttribute("points")!.trim().split(/\s+/).length,
      dots: svg.querySelectorAll("circle").length,
      label: svg.getAttribute("aria-label"),
    }));
    expect(curve).to.deep.include({ points: stored.length, vertices: stored.length, dots: stored.length });
    expect(curve.label).to.contain(`${stored.length} readings`);
    expect(await page.$$eval("[data-testid=readings] tbody tr", (rs) => rs.length)).to.equal(stored.length);
    await page.$eval("[data-testid=power-curve]", (e) => e.scrollIntoView());
    await shot("cpo-session");
  });

  it("starts the charger by hand (no escrow), sees the session charging, stops it: the charger ends it", async () => {
    type Listed = { sessionId: string; state: string; readings: number };
    const listed = async () => (await admin<{ sessions: Listed[] }>("/admin/sessions")).body.sessions;
    /** Polls the admin API (bounded: 60 s) until the hand-started session satisfies `done`. */
    const until = async (done: (s: Listed) => boolean, what: string): Promise<Listed> => {
      for (let i = 0; i < 120; i++) {
        const s = (await listed()).find((x) => x.sessionId !== sessionId);
        if (s && done(s)) return s;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`the session started by hand never ${what}`);
    };
    const lockedBefore = (await readEscrowEvents(pool, opts())).locked.length;
    await page.click("[data-testid=chargers] tr[data-charger=CS001] [data-testid=start-charger]");
    expect(await waitText("[data-testid=by-hand]", /accepted|answered/)).to.equal(
      "Starting CS001: the charger accepted.",
    );
    const open = await until((s) => s.state === "open" && s.readings >= 2, "streamed readings");
    const row = `[data-testid=sessions] tr[data-session="${open.sessionId}"]`;
    await waitText(row, /charging/, 30_000); // the dashboard reads the station again every few seconds
    await shot("cpo-started-by-hand");
    await page.click(`${row} [data-testid=stop-session]`);
    expect(await waitText("[data-testid=by-hand]", /Stopping the session: /)).to.contain("the charger accepted");
    await until((s) => s.state === "ended", "ended");
    await waitText(row, /ended/, 30_000);
    expect(await page.$(`${row} [data-testid=stop-session]`), "Stop offered on an ended session").to.equal(null);
    // Stopping it again is refused by the station, naming the state; no escrow was ever involved.
    const again = await fetch(`${net.admin}/admin/sessions/${open.sessionId}/stop`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.adminToken}` },
    });
    expect(again.status).to.equal(409);
    expect(((await again.json()) as { error: string }).error).to.match(/is ended, not open/);
    expect((await readEscrowEvents(pool, opts())).locked).to.have.length(lockedBefore);
  });

  it("tariffs: a bad OCPI file is refused naming the feature, nothing sent; a good one is published (injected wallet)", async () => {
    await useAccount(CPO_ADMIN);
    await page.click("input[name=cpo-signer][value=injected]");
    const before = (await cpo()).tariffs.size;
    const good = readFileSync(OCPI_GOOD, "utf8");
    const bad = JSON.parse(good) as { elements: { restrictions?: Record<string, unknown> }[] };
    bad.elements[1]!.restrictions!.day_of_week = ["SATURDAY", "SUNDAY"];
    const calls = () => page.evaluate(() => (window as unknown as { __eip1193Calls: string[] }).__eip1193Calls.length);
    const callsBefore = await calls();

    await page.select("#tariff-format", "ocpi");
    await page.$eval("#tariff-json", (e, v) => ((e as HTMLTextAreaElement).value = v), JSON.stringify(bad));
    await page.click("[data-testid=publish-tariff] button");
    const refused = await waitText("[data-testid=publish-tariff] ~ [role=alert]", /cannot be published/);
    expect(refused).to.contain("elements[1].restrictions.day_of_week");
    expect(refused).to.contain("Nothing was sent");
    expect(await calls(), "the injected wallet was asked").to.equal(callsBefore);
    expect((await cpo()).tariffs.size).to.equal(before);
    await shot("cpo-tariff-refused");

    await page.$eval("#tariff-json", (e, v) => ((e as HTMLTextAreaElement).value = v), good);
    await page.click("[data-testid=publish-tariff] button");
    const done = await waitText(
      "[data-testid=publish-tariff] ~ .done, [data-testid=publish-tariff] ~ .error",
      /./,
      120_000,
    );
    expect(done).to.match(/^Published OCPI tariff tod-1 .* as tariff /);
    const events = await registry.queryFilter(registry.filters.TariffPublished(net.cpoId));
    expect(events).to.have.length(before + 1);
    const published = (await cpo()).tariffs.get(events.at(-1)!.args.tariffHash)!;
    expect(published.energyPrice.map(String)).to.include.members(["200000", "450000", "300000"]);
    const tx = await provider.getTransaction(events.at(-1)!.transactionHash);
    expect(tx!.from, "signed by the CPO's admin through the injected wallet").to.equal(CPO_ADMIN);
    expect(await page.evaluate(() => (window as unknown as { __eip1193Calls: string[] }).__eip1193Calls)).to.include(
      "eth_sendTransaction",
    );
    await waitText("[data-testid=tariffs]", new RegExp(`0\\.45 EUR/kWh`));
    await shot("cpo-tariff-published");
  });

  it("meters: one added through the injected wallet, then revoked with the dev account (both on chain)", async () => {
    const key = Wallet.createRandom();
    const meter = new Meter({
      cpoId: net.cpoId,
      ratedPowerW: 11_000n,
      privateKey: Buffer.from(key.privateKey.slice(2), "hex"),
    });
    const count = (await cpo()).meters.length;
    await fill("#meter-ax", String(meter.publicKey[0]));
    await fill("#meter-ay", String(meter.publicKey[1]));
    await fill("#meter-rating", "11000");
    await page.click("[data-testid=add-meter] button");
    expect(await waitText("[data-testid=add-meter] ~ .done, [data-testid=add-meter] ~ .error", /./, 120_000)).to.match(
      /^Meter added \(11\.00 kW\)/,
    );
    const added = (await cpo()).meters;
    expect(added).to.have.length(count + 1);
    expect(added.at(-1)).to.deep.include({ leaf: meter.leaf, ratedPowerW: 11_000n, revoked: false });

    await page.click("input[name=cpo-signer][value=dev]");
    const index = added.at(-1)!.index;
    await page.waitForSelector(`[data-testid=meters] tr[data-leaf="${meter.leaf}"] button`);
    await page.click(`[data-testid=meters] tr[data-leaf="${meter.leaf}"] button`);
    await waitText(`[data-testid=meters] tr[data-leaf="${meter.leaf}"]`, /revoked/, 120_000);
    const after = (await cpo()).meters;
    expect(after.find((m) => m.leaf === meter.leaf)?.revoked, "revoked on chain").to.equal(true);
    expect(after.filter((m) => m.revoked).map((m) => m.index)).to.deep.equal([index]);
    const [revoked] = await registry.queryFilter(registry.filters.MeterRevoked(net.cpoId));
    expect(revoked!.args.leaf).to.equal(meter.leaf);
    await shot("cpo-meters");
  });

  it("withdraws the earnings to the payout address (CpoWithdrawal on chain)", async () => {
    const balance = await pool.cpoBalance(net.cpoId);
    expect(balance > 0n).to.equal(true);
    await page.click("input[name=cpo-signer][value=injected]");
    await page.click("[data-testid=withdraw-earnings]");
    await waitText("[data-testid=withdrawals]", new RegExp(formatAmount(balance).replace(".", "\\.")), 120_000);
    const withdrawals = await readCpoWithdrawals(pool, net.cpoId, opts());
    expect(withdrawals.map((w) => [w.payout, w.amount])).to.deep.equal([[CPO_ADMIN, balance]]);
    expect(await pool.cpoBalance(net.cpoId)).to.equal(0n);
    expect(await text("[data-testid=withdrawn]")).to.equal(formatAmount(balance));
  });

  it("wallet: deposits from the injected EIP-1193 wallet (the chain's Deposited event)", async () => {
    await page.goto(`${site.url}#/wallet`);
    await page.waitForSelector("#passphrase");
    await fill("#passphrase", PASSPHRASE);
    await fill("#again", PASSPHRASE);
    await page.click("button[type=submit]");
    await waitText("[data-testid=balance]", /0\.00 EUR/);
    await useAccount(LIVE_PAYER);
    const before = (await pool.queryFilter(pool.filters.Deposited())).length;
    await page.click("input[name=deposit-signer][value=injected]");
    await fill("#amount", "7");
    await page.click("#amount ~ button");
    expect(await waitText("#deposit-title ~ .done, #deposit-title ~ .error", /./, 120_000)).to.equal(
      `Deposited 7.00 EUR from ${LIVE_PAYER} into a new private note.`,
    );
    const deposits = await pool.queryFilter(pool.filters.Deposited());
    expect(deposits).to.have.length(before + 1);
    expect([deposits.at(-1)!.args.depositor, deposits.at(-1)!.args.value]).to.deep.equal([LIVE_PAYER, 7_000_000n]);
    await waitText("[data-testid=balance]", /^7\.00 EUR$/);
    await shot("cpo-wallet-injected-deposit");
  });

  it("charger codes: CS001's code, photographed, opens its offer in the wallet; a photo without a code changes nothing", async () => {
    await page.goto(`${site.url}#/cpo`);
    await connect();
    const code = await page.waitForSelector("[data-testid=code-CS001] svg");
    const link = await page.$eval("[data-testid=code-CS001]", (e) => e.getAttribute("data-link"));
    expect(link).to.equal(`${site.url}#/charge?${new URLSearchParams({ station: net.station, charger: "CS001" })}`);
    const photo = join(SHOTS, "cpo-code-CS001.png");
    await code!.screenshot({ path: photo });
    await page.$eval("#codes-title", (e) => e.scrollIntoView());
    await shot("cpo-charger-codes");
    // An address that is not http(s): no codes, and why.
    await fill("#codes-station", "station.example");
    expect(await waitText("#codes-title ~ [role=alert]", /must be an http\(s\) address/)).to.match(/no codes/);
    expect(await page.$("[data-testid=code-CS001]")).to.equal(null);

    await page.goto(`${site.url}#/charge`);
    await page.waitForSelector("#unlock"); // the wallet locks when its screens are left
    await fill("#unlock", PASSPHRASE);
    await page.click("button[type=submit]");
    const upload = async (file: string) =>
      ((await page.waitForSelector("#qr-photo")) as ElementHandle<HTMLInputElement>).uploadFile(file);
    await upload(join(SHOTS, "cpo-wallet-injected-deposit.png"));
    expect(await waitText("#charge-title ~ [role=alert]", /No QR code found/)).to.contain(
      '"cpo-wallet-injected-deposit.png"',
    );
    expect(await page.$("[data-testid=station]"), "a station was opened").to.equal(null);
    await upload(photo);
    await waitText("[data-testid=offer-checked]", /Checked against the registry/);
    expect(await page.$eval("#station-url", (e) => (e as HTMLInputElement).value)).to.equal(net.station);
    expect(await page.$eval("#charger", (e) => (e as HTMLSelectElement).value)).to.equal("CS001");
    expect(await page.$("#charge-title ~ [role=alert]"), "an error is still shown").to.equal(null);
  });

  it("phone-sized screen: the dashboard fits (no sideways scrolling), every field labelled", async () => {
    await page.setViewport(PHONE);
    await page.goto(`${site.url}#/cpo`);
    await connect();
    await waitText(`[data-testid=sessions] tr[data-session="${sessionId}"]`, /closed/);
    await page.click(`[data-testid=sessions] tr[data-session="${sessionId}"] button`);
    await page.waitForSelector("[data-testid=power-curve]");
    const { overflow, unlabelled } = await layoutProblems();
    expect(overflow, "#/cpo scrolls sideways on a phone").to.be.at.most(0);
    expect(unlabelled, "unlabelled fields on #/cpo").to.deep.equal([]);
    await shot("cpo-phone");
    await page.setViewport(DESKTOP);
    await shot("cpo-desktop-after");
    expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
  });
});
