/**
 * The driver's wallet for real (proof tier): a `hardhat node`, the relayer, the station service, two chargers and
 * `zkcharge wallet` as separate processes on 127.0.0.1 (scripts/lib/liveNet.ts), every one killed by its PID.
 *
 * - an honest session settles: the close the wallet proved charges exactly the bill of the readings it verified;
 * - a cheating CPO (its station's stream rewritten by a proxy in front of the real station: a reading above the
 *   rated power, a bad signature, a time going back, a missing chain point at a band boundary) → the wallet stops
 *   the session at once, says which rule broke, never counts that reading, and pays only the verified readings;
 *   an offer whose tariff is not the one the CPO published is refused before anything is locked;
 * - a charger that cheats itself (`--fault over-power`): the honest station refuses that reading, and the wallet pays
 *   the bill of the readings it verified;
 * - `kill -9` of the wallet mid-session → `wallet resume` reconnects from the last verified reading and settles.
 *
 * The honest session runs on anvil too (the second EVM implementation), the rest on the hardhat node.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import {
  EscrowStatus,
  LiveSessionVerifier,
  Pool__factory,
  decodeSignedMeterValue,
  readEscrow,
  tariffFromJson,
  type LiveRecord,
} from "../../sdk/index.ts";
import { openWalletFile, runWallet, startLiveNet, type LiveNet } from "../../scripts/lib/liveNet.ts";
import type { WalletSession } from "../../cli/walletStore.ts";
import { anvilAvailable, rpcCall, type NodeKind } from "../../dev/nodes.ts";
import { TamperProxy, type Tamper } from "./tamperProxy.ts";

/** The bill of the readings a wallet session kept, checked again from scratch. */
function verifiedBill(s: WalletSession): { amount: bigint; ended: boolean } {
  const verifier = new LiveSessionVerifier({
    sessionId: BigInt(s.sessionId),
    cpoId: BigInt(s.cpoId),
    ratedPowerW: BigInt(s.ratedPowerW),
    meterPublicKey: [BigInt(s.meterPublicKey[0]), BigInt(s.meterPublicKey[1])],
    tariff: tariffFromJson(s.tariff),
  });
  for (const r of s.readings) {
    const { record, publicKey } = decodeSignedMeterValue(r);
    verifier.accept(record, publicKey);
  }
  return { amount: verifier.runningBill()!.amount, ended: verifier.ended };
}

for (const kind of ["hardhat", "anvil"] as const satisfies readonly NodeKind[])
  describe(`wallet: live charging with every party its own process (${kind} node)`, function () {
    this.timeout(900_000);
    let dir: string;
    let net: LiveNet;
    const proxies: TamperProxy[] = [];

    const charge = (station: string, charger: string, extra: string[]) => [
      "charge",
      ...["--station", station, "--charger", charger, "--cap", "5.00", "--relayer", net.relayer],
      "--accept-linkable",
      ...extra,
    ];
    const lastSession = async (): Promise<WalletSession> => {
      const store = await openWalletFile(net);
      try {
        return store.data.sessions.at(-1)!;
      } finally {
        await store.close();
      }
    };
    const escrowStatus = async (s: WalletSession) => {
      const provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
      try {
        return (await readEscrow(Pool__factory.connect(s.pool, provider), BigInt(s.escrowId!))).status;
      } finally {
        provider.destroy();
      }
    };

    const chainNow = async () =>
      BigInt((await rpcCall<{ timestamp: string }>(net.rpc, "eth_getBlockByNumber", ["latest", false])).timestamp);

    before(async function () {
      if (kind === "anvil" && !anvilAvailable()) {
        console.log("    anvil is not installed (@foundry-rs/anvil's platform binary): skipped");
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), "zkcharge-wallet-live-"));
      net = await startLiveNet({
        dir,
        node: kind,
        chargers: kind === "anvil" ? ["CS001"] : ["CS001", "CS002", "CS003"],
        chargerArgs: { CS003: ["--fault", "over-power"] },
      });
      for (const args of [
        ["create", "--scrypt-log-n", "10"],
        ["deposit", "--amount", "100.00"],
      ]) {
        const r = await runWallet(net, args);
        expect(r.code, r.out).to.equal(0);
      }
    });

    after(async function () {
      for (const p of proxies) await p.close();
      await net?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("settles an honest session: the close charges exactly the bill of the verified readings", async function () {
      const r = await runWallet(net, charge(net.station, "CS001", ["--stop-after-seconds", "5"]));
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.match(/Offer from .* checked against the registry/);
      expect(r.out).to.match(/Session w1 settled: paid /);
      const s = await lastSession();
      expect(s.state).to.equal("closed");
      expect(s.closedBy).to.equal("wallet");
      const bill = verifiedBill(s);
      expect(bill.ended).to.equal(true);
      expect(BigInt(s.amount!)).to.equal(bill.amount);
      expect(BigInt(s.amount!) + BigInt(s.refund!)).to.equal(BigInt(s.cap));
      expect(s.readings.map((x) => x.seqNo)).to.deep.equal(s.readings.map((_x, i) => i));
      expect(await escrowStatus(s)).to.equal(EscrowStatus.Closed);
    });

    // The second implementation runs the honest session; the faults once, on the first.
    if (kind === "anvil") return;

    const cheats: [string, Tamper, RegExp][] = [
      ["a reading above the rated power", (r) => ({ ...r, e: r.e + 10_000n }), /exceeds the rating 22000 W/],
      [
        "a bad signature",
        (r) => ({ ...r, signature: { ...r.signature, S: r.signature.S + 1n } }),
        /bad meter signature/,
      ],
      ["a time going back", (r) => ({ ...r, t: r.t - 30n }), /time goes back/],
      [
        "a missing chain point at a band boundary",
        (r: LiveRecord) => ({ ...r, t: r.t + 86_400n }),
        /chain point at the tariff boundary t=\d+ is missing/,
      ],
    ];
    for (const [what, tamper, rule] of cheats) {
      it(`stops at ${what}, says which rule broke and pays only the verified readings`, async function () {
        const proxy = new TamperProxy(net.station, { atSeqNo: 3, tamper });
        proxies.push(proxy);
        await proxy.listen();
        const r = await runWallet(net, charge(proxy.url, "CS002", []));
        expect(r.code, r.out).to.equal(0);
        expect(proxy.tampered).to.be.a("number");
        expect(r.out).to.match(new RegExp(`Reading ${proxy.tampered} broke a rule, not counted: .*${rule.source}`));
        expect(r.out).to.match(/Stopping the session: reading \d+ broke a rule/);
        const s = await lastSession();
        expect(s.violation?.seqNo).to.equal(proxy.tampered);
        expect(s.violation?.rule).to.match(rule);
        // The rewritten reading was never kept, and the close charged the bill of what was verified, nothing more.
        expect(s.readings.map((x) => x.seqNo)).to.not.include(proxy.tampered);
        expect(s.state).to.equal("closed");
        expect(BigInt(s.amount!)).to.equal(verifiedBill(s).amount);
        expect(await escrowStatus(s)).to.equal(EscrowStatus.Closed);
      });
    }

    it("pays only valid readings when the charger itself cheats (the honest station refuses its reading)", async function () {
      const r = await runWallet(net, charge(net.station, "CS003", ["--stop-after-seconds", "6"]));
      expect(r.code, r.out).to.equal(0);
      expect(net.procs.get("CS003")!.stdout).to.match(/fault injected \(over-power\) into seqNo 3/);
      const s = await lastSession();
      // The over-rated reading never reached the wallet: the station refused it (CALLERROR) and did not store it.
      expect(s.readings.map((x) => x.seqNo)).to.not.include(3);
      expect(s.violation).to.equal(undefined);
      expect(s.state).to.equal("closed");
      const bill = verifiedBill(s);
      expect(bill.ended).to.equal(true);
      expect(BigInt(s.amount!)).to.equal(bill.amount);
    });

    it("refuses an offer whose tariff is not the one the CPO published, before anything is locked", async function () {
      const proxy = new TamperProxy(net.station, {
        offerTariff: (t) => ({ ...t, energyPrice: ["1", "1", "1", "1"] }),
      });
      proxies.push(proxy);
      await proxy.listen();
      const before = (await openWalletFile(net).then(async (s) => (await s.close(), s.data.sessions.length))) as number;
      const r = await runWallet(net, charge(proxy.url, "CS002", []));
      expect(r.code, r.out).to.equal(1);
      expect(r.out).to.match(/the offer for charger CS002 is refused: its tariff hashes to \d+, not the offered hash/);
      const after = (await openWalletFile(net).then(async (s) => (await s.close(), s.data.sessions.length))) as number;
      expect(after).to.equal(before);
    });

    it("resumes after kill -9 of the wallet mid-session: reconnects, verifies the rest and settles", async function () {
      const w = net.wallet$(charge(net.station, "CS001", []), "wallet-killed");
      await w.waitFor(/meter #3 /, 300_000);
      await w.kill("SIGKILL");
      const killed = await lastSession();
      expect(killed.state).to.equal("charging");
      expect(killed.readings.length).to.be.at.least(4);
      const r = await runWallet(net, ["resume", "--session", killed.id, "--stop-after-seconds", "2"]);
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.match(
        new RegExp(`Resuming session ${killed.id} .* ${killed.readings.length} reading\\(s\\) verified`),
      );
      expect(r.out).to.match(new RegExp(`Session ${killed.id} settled: paid `));
      const s = await lastSession();
      expect(s.readings.length).to.be.above(killed.readings.length);
      expect(s.readings.map((x) => x.seqNo)).to.deep.equal(s.readings.map((_x, i) => i));
      expect(BigInt(s.amount!)).to.equal(verifiedBill(s).amount);
      expect(await escrowStatus(s)).to.equal(EscrowStatus.Closed);
    });

    // Last: it moves the chain's clock two days ahead.
    it("takes the cap back from an escrow nobody closed, only after its claim deadline and only once", async function () {
      const proxy = new TamperProxy(net.station, { refuseStart: true });
      proxies.push(proxy);
      await proxy.listen();
      const r = await runWallet(net, charge(proxy.url, "CS002", []));
      expect(r.code, r.out).to.equal(1);
      expect(r.out).to.match(/the station is down for maintenance/);
      const s = await lastSession();
      expect(s.state).to.equal("locked");
      expect(await escrowStatus(s)).to.equal(EscrowStatus.Open);
      const refund = ["refund", "--session", s.id, "--accept-linkable"];
      const early = await runWallet(net, refund);
      expect(early.code, early.out).to.equal(1);
      expect(early.out).to.match(new RegExp(`the escrow of session ${s.id} refunds only after its claim deadline`));
      const linkable = await runWallet(net, ["refund", "--session", s.id]);
      expect(linkable.code, linkable.out).to.equal(1);
      await rpcCall(net.rpc, "evm_increaseTime", [Number(BigInt(s.claimDeadline)) - Number(await chainNow()) + 60]);
      await rpcCall(net.rpc, "evm_mine", []);
      expect((await runWallet(net, ["refund", "--session", s.id])).out).to.match(/pass --accept-linkable/);
      const done = await runWallet(net, refund);
      expect(done.code, done.out).to.equal(0);
      expect(done.out).to.match(new RegExp(`Refunded the escrow of session ${s.id}: 5.00 EUR back in the wallet`));
      expect(await escrowStatus(s)).to.equal(EscrowStatus.Refunded);
      expect(await lastSession()).to.deep.include({ state: "refunded", amount: "0", refund: s.cap });
      const again = await runWallet(net, refund);
      expect(again.code, again.out).to.equal(1);
      expect(again.out).to.match(/is Refunded, not open: nothing to refund/);
    });
  });
