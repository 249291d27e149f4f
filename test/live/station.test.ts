/**
 * The station's driver API and chain side (docs/live.md) with real processes on 127.0.0.1: a `hardhat node`, the
 * contracts deployed by `npm run deploy`, the station (its CPO key in an encrypted keystore) and two chargers; the
 * driver is the SDK (Driver, StationClient). Shown: an honest session from the offer to a close the driver proves
 * and the station checks and submits (escrow Closed, the CPO paid, the rest refunded to the driver); a cheating
 * driver (unknown nonce, reused nonce, a foreign escrow, a cap below the minimum, another session's escrow, a bad
 * proof, a proof replayed on another session) refused with the cause named while the charger stays Available; the
 * cap policy stopping a charger, the station closing that session itself after the grace time; a charger killed
 * mid-session, its escrow closed by the station from the last live tail after the settle deadline (chain time
 * travel); a flood answered 429 while another client is served. Faults: `kill -9` of the station mid-session and a
 * restart on its database (the charger delivers its queue, no reading lost, the session settles); the chain RPC (a
 * proxy in front of the node) down while a close is handed over, then the answer to the close's transaction lost:
 * retried with backoff, the close mined once.
 */
import { request as httpRequest } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet, type Signer } from "ethers";
import {
  Driver,
  DriverIdentity,
  EscrowStatus,
  LiveSessionVerifier,
  Meter,
  Operator,
  Pool__factory,
  Registry__factory,
  StationClient,
  StationError,
  decodeSignedMeterValue,
  parseDeploymentRecord,
  prepareClose,
  randomBits,
  readEscrow,
  readMeterTree,
  sessionId as makeSessionId,
  tariffFromJson,
  type Closing,
  type LiveMessage,
  type Offer,
  type Pool,
  type Registry,
  type Tariff,
} from "../../sdk/index.ts";
import { runFile } from "../cli/harness.ts";
import { freePort, rpcCall, startNodeProcess, type NodeProcess } from "../../dev/nodes.ts";
import { RpcProxy, httpUpstream } from "../fixtures/rpcProxy.ts";
import { writeKeystore } from "../relayer/harness.ts";
import {
  Child,
  PASSPHRASE,
  RATED_POWER_W,
  nearBoundaryTariff,
  startCharger,
  startStation,
  stationArgs,
  stationFiles,
  until,
} from "./harness.ts";

const CPO_PASSPHRASE = "cpo admin passphrase";
const MIN_CAP = 20_000n;
const DAY = 86_400n;

/** The one origin the station lets browsers call from in this file (`--cors-origins`). */
const WALLET_ORIGIN = "https://wallet.example";

describe("live: the station's driver API and chain side", function () {
  this.timeout(600_000);
  let node: NodeProcess;
  let dir: string;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let registry: Registry;
  let cpoId: bigint;
  let otherCpoId: bigint;
  let tariff: Tariff;
  let driver: Driver;
  let submitter: Signer;
  let station: { child: Child; ocpp: string; admin: string; api: string } | undefined;
  /** The station's way to the node: a proxy that can be taken down or lose an answer. */
  let rpc: RpcProxy;
  /** Starts the station process (again, on the same database and OCPP port after a kill). */
  let startTheStation: () => Promise<void>;
  const chargers: Record<string, { child?: Child; args: string[] }> = {};
  let client: StationClient;
  /** The honest session's close, replayed later on another session, and its terms. */
  let honestClose: Closing;
  let honest: { offer: Offer; driverNonce: bigint; escrowId: bigint };

  const chainTime = async () => BigInt((await provider.getBlock("latest"))!.timestamp);
  const stationLog = () => station!.child.stdout;
  const chargerStatus = async (id: string) => (await client.info()).chargers.find((c) => c.chargerId === id)!;

  /** A meter whose key is in an encrypted key file, registered under `cpoId`. */
  function meterAt(file: string): Meter {
    const wallet = Wallet.createRandom();
    writeKeystore(file, wallet, PASSPHRASE);
    return new Meter({ cpoId, ratedPowerW: RATED_POWER_W, privateKey: Buffer.from(wallet.privateKey.slice(2), "hex") });
  }

  /** Locks an escrow for the session of `offer` and a fresh driver nonce. */
  async function lock(offer: Pick<Offer, "stationNonce">, opts: { cap: bigint; cpo?: bigint; settleIn?: bigint }) {
    const driverNonce = randomBits(128);
    const settleDeadline = (await chainTime()) + (opts.settleIn ?? 3600n);
    const { escrowId } = await driver.lock(
      {
        stationNonce: offer.stationNonce,
        driverNonce,
        cpoId: opts.cpo ?? cpoId,
        cap: opts.cap,
        settleDeadline,
        claimDeadline: settleDeadline + DAY + 60n,
      },
      submitter,
    );
    return { driverNonce, escrowId, sessionId: makeSessionId(offer.stationNonce, driverNonce) };
  }

  /** The station's refusal of `run`: its HTTP status and code, and the message. */
  async function refused(run: () => Promise<unknown>): Promise<StationError> {
    try {
      await run();
    } catch (error) {
      if (error instanceof StationError) return error;
      throw error;
    }
    throw new Error("the station accepted it");
  }

  /** The session end the station serves, checked reading by reading as the driver's wallet does. */
  async function sessionEnd(sessionId: bigint, token: string, offer: Offer) {
    const { readings } = await client.readings(sessionId, token);
    const verifier = new LiveSessionVerifier({
      sessionId,
      cpoId,
      ratedPowerW: offer.ratedPowerW,
      meterPublicKey: offer.meterPublicKey,
      tariff: tariffFromJson(offer.tariff),
    });
    for (const r of readings) {
      const { record, publicKey } = decodeSignedMeterValue(r.signedMeterValue);
      verifier.accept(record, publicKey);
    }
    return verifier.session()!;
  }

  /** Collects a session's live messages in the background. */
  function follow(sessionId: bigint, token: string) {
    const messages: LiveMessage[] = [];
    const stream = client.live(sessionId, token);
    const done = (async () => {
      for await (const m of stream) messages.push(m);
    })().catch(() => {});
    return { messages, stream, done };
  }

  before(async function () {
    node = await startNodeProcess("hardhat");
    dir = mkdtempSync(join(tmpdir(), "zkcharge-station-"));
    const deployed = await runFile(
      "scripts/deploy.ts",
      ["--network", "localhost", "--rpc", node.rpc, "--out", join(dir, "deployments")],
      { ...process.env, ZKCHARGE_IGNITION_DIR: join(dir, "ignition") },
      180_000,
    );
    expect(deployed.code, `${deployed.stdout}\n${deployed.stderr}`).to.equal(0);
    const recordFile = join(dir, "deployments", "31337.json");
    const record = parseDeploymentRecord(readFileSync(recordFile, "utf8"), recordFile);
    provider = new JsonRpcProvider(node.rpc, undefined, {
      staticNetwork: true,
      pollingInterval: 200,
      cacheTimeout: -1,
    });
    pool = Pool__factory.connect(record.addresses.pool, provider);
    registry = Registry__factory.connect(record.addresses.registry, provider);
    const dev = await provider.getSigner(0);
    submitter = await provider.getSigner(3);
    // The CPO admin: a fresh account whose key exists only in an encrypted keystore (and here, to set it up).
    const cpoKey = Wallet.createRandom().connect(provider);
    await (await dev.sendTransaction({ to: cpoKey.address, value: 10n ** 19n })).wait();
    writeKeystore(join(dir, "cpo.json"), cpoKey, CPO_PASSPHRASE);
    const operator = await Operator.register({ registry, pool, signer: cpoKey });
    cpoId = operator.cpoId;
    otherCpoId = (await Operator.register({ registry, pool, signer: await provider.getSigner(5) })).cpoId;
    const meters = { CS001: meterAt(join(dir, "cs001.key.json")), CS002: meterAt(join(dir, "cs002.key.json")) };
    for (const m of Object.values(meters)) await operator.addMeter(m);
    // Dear energy (1.00 EUR / kWh, no band boundary during the test): a few seconds of charging reach a small cap.
    const near = nearBoundaryTariff(15_000, 18_000);
    const { cpoId: _c, ...fields } = near.tariff;
    fields.energyPrice = [1_000_000n, 1_000_000n, 1_000_000n, 1_000_000n];
    fields.validFrom = (await chainTime()) + 2n; // the registry takes tariffs valid from now on
    await operator.publishTariff(fields);
    tariff = { ...fields, cpoId };

    // The driver: a deposit of 10.00 EUR (the caps of all the sessions below) from a funded account.
    const payer = await provider.getSigner(2);
    const token = new Contract(record.addresses.token, ["function mint(address,uint256)"], payer);
    await (await token.getFunction("mint")(await payer.getAddress(), 10_000_000n)).wait();
    driver = new Driver(DriverIdentity.random(), pool);
    await driver.deposit(10_000_000n, payer);

    const files = stationFiles(dir, meters, tariff);
    rpc = await RpcProxy.start(httpUpstream(node.rpc));
    const port = await freePort();
    const args = stationArgs({
      files,
      db: join(dir, "station.db"),
      heartbeat: 2,
      chain: {
        rpc: rpc.url,
        deployment: recordFile,
        cpoKeystore: join(dir, "cpo.json"),
        cpoId,
        minCap: MIN_CAP,
        minSecondsToSettle: 600,
        closeGrace: 45, // longer than a loaded machine takes to prove a close
        readingInterval: 2,
        ratePerMinute: 60,
      },
      corsOrigins: WALLET_ORIGIN,
    });
    startTheStation = async () => {
      const started = await startStation(args, port, { ZKCHARGE_PASSPHRASE_CPO: CPO_PASSPHRASE });
      const api = /driver API for CPO \d+ on chain 31337 on (http:\/\/\S+)/.exec(started.child.stdout)![1]!;
      station = { ...started, api };
      client = new StationClient(api);
    };
    await startTheStation();
    for (const id of ["CS001", "CS002"]) {
      const args = [
        "--station",
        station!.ocpp,
        "--id",
        id,
        "--meter-key",
        join(dir, `${id.toLowerCase()}.key.json`),
        "--db",
        join(dir, `${id}.db`),
        "--cpo-id",
        String(cpoId),
      ];
      chargers[id] = { args, child: startCharger(args) };
    }
    // Sessions start by the chargers' clocks: after the tariff's validFrom.
    await until("the tariff valid", async () => (BigInt(Date.now()) / 1000n > tariff.validFrom ? true : undefined));
    await until("both chargers Available", async () => {
      const info = await client.info();
      return info.chargers.every((c) => c.connected && c.status === "Available") ? true : undefined;
    });
  });

  after(async function () {
    for (const c of Object.values(chargers)) await c.child?.kill("SIGKILL");
    await station?.child.kill("SIGKILL");
    await rpc?.close();
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("describes itself and offers a one-time nonce with the terms of a charger", async function () {
    const info = await client.info();
    expect(info).to.deep.include({ cpoId, chainId: 31337n, minCap: MIN_CAP, minSecondsToSettle: 600n });
    expect(info.pool).to.equal(await pool.getAddress());
    expect(info.chargers.map((c) => c.chargerId)).to.deep.equal(["CS001", "CS002"]);
    const a = await client.offer("CS001");
    const b = await client.offer("CS001");
    expect(a.stationNonce).to.not.equal(b.stationNonce);
    expect(a).to.deep.include({ cpoId, ratedPowerW: RATED_POWER_W });
    const tree = await readMeterTree(registry, cpoId);
    expect(tree.indexOf(a.meterLeaf)).to.be.at.least(0);
    expect(await registry.tariffCpo(a.tariffHash)).to.equal(cpoId);
    const unknown = await refused(() => client.offer("CS999"));
    expect([unknown.status, unknown.code]).to.deep.equal([404, "UNKNOWN_CHARGER"]);
  });

  it("answers a browser wallet from an allowed origin (CORS: GET, POST, bearer token) and no other", async function () {
    const preflight = (origin: string) =>
      fetch(`${station!.api}/api/v1/sessions`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type, authorization",
        },
      });
    const allowed = await preflight(WALLET_ORIGIN);
    expect(allowed.status).to.equal(204);
    expect(allowed.headers.get("access-control-allow-origin")).to.equal(WALLET_ORIGIN);
    expect(allowed.headers.get("access-control-allow-methods")).to.equal("GET, POST");
    expect(allowed.headers.get("access-control-allow-headers")).to.equal("content-type, authorization");
    expect(allowed.headers.get("access-control-allow-credentials"), "credentials allowed").to.equal(null);
    const info = await fetch(`${station!.api}/api/v1/station`, { headers: { origin: WALLET_ORIGIN } });
    expect(info.headers.get("access-control-allow-origin")).to.equal(WALLET_ORIGIN);
    const other = await preflight("https://other.example");
    expect(other.headers.get("access-control-allow-origin"), "another origin allowed").to.equal(null);
  });

  it("runs an honest session: escrow checked, live readings with the bill, stop, the driver's close submitted", async function () {
    const offer = await client.offer("CS001");
    const cap = 1_000_000n;
    const { driverNonce, escrowId, sessionId } = await lock(offer, { cap });
    honest = { offer, driverNonce, escrowId };
    await driver.sync();
    const balanceBefore = driver.balance;
    const earnedBefore = await pool.cpoBalance(cpoId);
    const start = await client.start({ chargerId: "CS001", stationNonce: offer.stationNonce, driverNonce, escrowId });
    expect(start).to.deep.include({ sessionId, state: "requested" });
    const { token } = start;
    const live = follow(sessionId, token);
    await until("4 live readings", async () =>
      live.messages.filter((m) => m.type === "reading").length >= 4 ? true : undefined,
    );
    const bills = live.messages.flatMap((m) => (m.type === "reading" ? [m.bill] : []));
    expect(bills[0]! >= tariff.flatFee).to.equal(true);
    expect(bills.every((b, i) => i === 0 || b >= bills[i - 1]!)).to.equal(true);
    expect(bills[bills.length - 1]! > bills[0]!).to.equal(true);
    // The bearer token is the session's only key; streams per session are bounded.
    expect((await refused(() => client.status(sessionId, "not-the-token"))).code).to.equal("UNAUTHORIZED");
    const extra = [1, 2, 3].map(() => follow(sessionId, token));
    await until("3 more streams", async () => (extra.every((x) => x.messages.length > 0) ? true : undefined));
    const fifth = follow(sessionId, token);
    await fifth.done;
    expect(fifth.messages).to.deep.equal([]);
    extra.forEach((s) => s.stream.close());

    // A close before the end is refused.
    const early = await refused(() => client.close(sessionId, token, {} as Closing));
    expect([early.status, early.code]).to.deep.equal([409, "NOT_ENDED"]);
    expect((await client.stop(sessionId, token)).status).to.equal("Accepted");
    await until("the session end", async () =>
      live.messages.some((m) => m.type === "state" && m.state === "ended") ? true : undefined,
    );
    const status = await client.status(sessionId, token);
    expect(status).to.deep.include({ state: "ended", escrowId, cap });

    const session = await sessionEnd(sessionId, token, offer);
    const tree = await readMeterTree(registry, cpoId);
    const closing = await prepareClose(pool, escrowId, session, tree.path(tree.indexOf(offer.meterLeaf)));
    expect(closing.pub.amount).to.equal(status.bill);
    // A tampered proof and a tampered amount are refused before anything is sent.
    const tampered = {
      ...closing,
      groth16: { ...closing.groth16, pi_a: [closing.groth16.pi_c[0], ...closing.groth16.pi_a.slice(1)] },
    };
    const badProof = await refused(() => client.close(sessionId, token, tampered as Closing));
    expect([badProof.status, badProof.code]).to.deep.equal([400, "BAD_PROOF"]);
    expect(badProof.message).to.match(/does not verify/);
    const less = await refused(() =>
      client.close(sessionId, token, { ...closing, pub: { ...closing.pub, amount: closing.pub.amount - 1n } }),
    );
    expect(less.message).to.match(/charges .* the session end the station stored charges/);

    const answer = await client.close(sessionId, token, closing);
    expect(answer).to.deep.include({ amount: closing.pub.amount, refund: cap - closing.pub.amount, existing: false });
    expect((await readEscrow(pool, escrowId)).status).to.equal(EscrowStatus.Closed);
    expect(await pool.cpoBalance(cpoId)).to.equal(earnedBefore + closing.pub.amount);
    await driver.sync();
    expect(driver.balance).to.equal(balanceBefore + cap - closing.pub.amount);
    const again = await client.close(sessionId, token, closing);
    expect(again).to.deep.include({ txHash: answer.txHash, existing: true });
    expect(await client.status(sessionId, token)).to.deep.include({ state: "closed", closeTx: answer.txHash });
    await until("the closed message", async () => (live.messages.some((m) => m.type === "closed") ? true : undefined));
    expect(live.messages.find((m) => m.type === "closed")).to.deep.include({ txHash: answer.txHash });
    live.stream.close();
    honestClose = closing;
  });

  it("refuses a cheating driver with the cause named, and never switches the charger on", async function () {
    await until("CS001 Available", async () =>
      (await chargerStatus("CS001")).status === "Available" ? true : undefined,
    );
    const startsBefore = (chargers.CS001!.child!.stdout.match(/transaction \S+ started/g) ?? []).length;
    const start = (o: Offer, x: { driverNonce: bigint; escrowId: bigint }) =>
      refused(() =>
        client.start({
          chargerId: "CS001",
          stationNonce: o.stationNonce,
          driverNonce: x.driverNonce,
          escrowId: x.escrowId,
        }),
      );

    const unknown = await refused(() =>
      client.start({ chargerId: "CS001", stationNonce: randomBits(128), driverNonce: 1n, escrowId: 1n }),
    );
    expect([unknown.status, unknown.code]).to.deep.equal([400, "NONCE_UNKNOWN"]);
    const elsewhere = await client.offer("CS002");
    expect((await start(elsewhere, { driverNonce: 1n, escrowId: 1n })).code).to.equal("NONCE_UNKNOWN");

    const offer = await client.offer("CS001");
    const foreign = await lock(offer, { cap: 1_000_000n, cpo: otherCpoId });
    const e1 = await start(offer, foreign);
    expect([e1.status, e1.code]).to.deep.equal([400, "ESCROW_REJECTED"]);
    expect(e1.message).to.match(new RegExp(`is for CPO ${otherCpoId}, not ${cpoId}`));

    const small = await lock(offer, { cap: MIN_CAP - 1n });
    const e2 = await start(offer, small);
    expect(e2.code).to.equal("ESCROW_REJECTED");
    expect(e2.message).to.match(/below the required/);

    // The small escrow is Open and this CPO's, but for another session than the one these nonces make.
    const e3 = await start(offer, { driverNonce: randomBits(128), escrowId: small.escrowId });
    expect(e3.code).to.equal("ESCROW_REJECTED");
    expect(e3.message).to.match(new RegExp(`is for session ${small.sessionId}, not`));

    // The honest session's station nonce again: already used.
    const used = await start(honest.offer, { driverNonce: honest.driverNonce, escrowId: honest.escrowId });
    expect([used.status, used.code]).to.deep.equal([409, "NONCE_USED"]);

    expect((await chargerStatus("CS001")).status).to.equal("Available");
    expect((chargers.CS001!.child!.stdout.match(/transaction \S+ started/g) ?? []).length).to.equal(startsBefore);
  });

  /** Locks and starts a session on CS001 (once it is Available) and follows it. */
  async function chargeOnCs001(cap: bigint) {
    await until("CS001 Available", async () =>
      (await chargerStatus("CS001")).status === "Available" ? true : undefined,
    );
    const offer = await client.offer("CS001");
    const { driverNonce, escrowId, sessionId } = await lock(offer, { cap });
    const { token } = await client.start({
      chargerId: "CS001",
      stationNonce: offer.stationNonce,
      driverNonce,
      escrowId,
    });
    return { offer, escrowId, sessionId, token };
  }

  /** Stops the session and waits for its end; returns the driver's close of it. */
  async function stopAndProve(x: { offer: Offer; escrowId: bigint; sessionId: bigint; token: string }) {
    expect((await client.stop(x.sessionId, x.token)).status).to.equal("Accepted");
    await until("the session end", async () =>
      (await client.status(x.sessionId, x.token)).state === "ended" ? true : undefined,
    );
    const session = await sessionEnd(x.sessionId, x.token, x.offer);
    const tree = await readMeterTree(registry, cpoId);
    return prepareClose(pool, x.escrowId, session, tree.path(tree.indexOf(x.offer.meterLeaf)));
  }

  it("survives kill -9 of the station mid-session: restarted on its database, no reading lost, the session settles", async function () {
    const x = await chargeOnCs001(1_000_000n);
    await until("3 readings", async () =>
      (await client.status(x.sessionId, x.token)).readings >= 3 ? true : undefined,
    );
    await station!.child.kill("SIGKILL");
    const charger = chargers.CS001!.child!;
    await charger.waitFor(/disconnected from the CSMS/);
    await new Promise((r) => setTimeout(r, 3000)); // the charger queues its readings meanwhile
    await startTheStation();
    const afterRestart = await until("the queue delivered", async () => {
      const s = await client.status(x.sessionId, x.token);
      return s.readings >= 6 ? s : undefined;
    });
    expect(afterRestart.state).to.equal("open");
    await station!.child.waitFor(/CS001: stored live seqNo \d+ .* \(taken offline\)/, 10_000);
    const closing = await stopAndProve(x);
    // Every reading the charger signed, from its start point to its end, in order: none lost across the kill.
    const { readings } = await client.readings(x.sessionId, x.token);
    expect(readings.map((r) => r.seqNo)).to.deep.equal(readings.map((_, i) => i));
    const answer = await client.close(x.sessionId, x.token, closing);
    expect(answer).to.deep.include({ amount: closing.pub.amount, existing: false });
    expect((await readEscrow(pool, x.escrowId)).status).to.equal(EscrowStatus.Closed);
  });

  it("waits out a chain outage with backoff, and submits a close once when the answer to its transaction is lost", async function () {
    const x = await chargeOnCs001(1_000_000n);
    await until("2 readings", async () =>
      (await client.status(x.sessionId, x.token)).readings >= 2 ? true : undefined,
    );
    const closing = await stopAndProve(x);
    const sentBefore = rpc.forwarded.get("eth_sendRawTransaction") ?? 0;
    // The node is down when the driver hands the close; it comes back, but the answer to the close's
    // transaction is lost on its way to the station.
    rpc.down = true;
    const handed = client.close(x.sessionId, x.token, closing).then(
      () => undefined,
      (error: unknown) => error,
    );
    await station!.child.waitFor(/read escrow: .*retry 2 in/, 15_000);
    rpc.loseAnswerTo.add("eth_sendRawTransaction");
    rpc.down = false;
    const failed = await handed;
    expect(failed).to.be.instanceOf(StationError);
    expect([(failed as StationError).status, (failed as StationError).code]).to.deep.equal([502, "CLOSE_FAILED"]);
    // The station finds its transaction mined instead of sending another; the driver's retry gets it too.
    const closed = await until("the close confirmed", async () => {
      const s = await client.status(x.sessionId, x.token);
      return s.state === "closed" ? s : undefined;
    });
    const events = await pool.queryFilter(pool.filters.EscrowClosed(x.escrowId));
    expect(events.map((e) => [e.args.amount, Number(e.args.mode), e.transactionHash])).to.deep.equal([
      [closing.pub.amount, 0, closed.closeTx],
    ]);
    expect(await client.close(x.sessionId, x.token, closing)).to.deep.include({
      txHash: closed.closeTx,
      existing: true,
    });
    expect((rpc.forwarded.get("eth_sendRawTransaction") ?? 0) - sentBefore).to.equal(1);
  });

  it("stops the charger before the bill can pass the cap; the station closes the session itself after the grace time", async function () {
    const offer = await client.offer("CS001");
    const { driverNonce, escrowId, sessionId } = await lock(offer, { cap: MIN_CAP });
    const { token } = await client.start({
      chargerId: "CS001",
      stationNonce: offer.stationNonce,
      driverNonce,
      escrowId,
    });
    const live = follow(sessionId, token);
    await until(
      "the stop for the cap",
      async () => (live.messages.some((m) => m.type === "state" && m.state === "ended") ? true : undefined),
      90_000,
    );
    expect(live.messages.find((m) => m.type === "state" && m.state === "ended")).to.deep.include({ reason: "cap" });
    const status = await client.status(sessionId, token);
    expect(status).to.deep.include({ state: "ended", stoppedBy: "cap" });
    expect(status.bill! <= MIN_CAP).to.equal(true);
    expect(stationLog()).to.match(new RegExp(`session ${sessionId}: bill \\d+ could pass the cap ${MIN_CAP}`));

    // The honest session's proof replayed on this one.
    const replay = await refused(() => client.close(sessionId, token, honestClose));
    expect([replay.status, replay.code]).to.deep.equal([400, "BAD_PROOF"]);
    expect(replay.message).to.match(/the proof is for session \d+, not/);

    // The driver hands no close: after the grace time the station proves it from the session end.
    const closed = await until(
      "the station's own close",
      async () => {
        const s = await client.status(sessionId, token);
        return s.state === "closed" ? s : undefined;
      },
      120_000,
    );
    expect(closed.closeTx).to.match(/^0x[0-9a-f]{64}$/);
    const events = await pool.queryFilter(pool.filters.EscrowClosed(escrowId));
    expect(events.map((e) => [e.args.amount, Number(e.args.mode)])).to.deep.equal([[status.bill, 0]]);
    live.stream.close();
  });

  it("closes an unfinished escrow from the last live tail after the settle deadline (charger killed)", async function () {
    const offer = await client.offer("CS002");
    const { driverNonce, escrowId, sessionId } = await lock(offer, { cap: 2_000_000n, settleIn: 1000n });
    const { token } = await client.start({
      chargerId: "CS002",
      stationNonce: offer.stationNonce,
      driverNonce,
      escrowId,
    });
    await until("3 readings", async () => ((await client.status(sessionId, token)).readings >= 3 ? true : undefined));
    await chargers.CS002!.child!.kill("SIGKILL");
    const { bill, readings } = await client.status(sessionId, token);
    expect(await readEscrow(pool, escrowId)).to.deep.include({ status: EscrowStatus.Open });
    // Past the settle deadline on the chain's clock.
    await rpcCall(node.rpc, "evm_increaseTime", [1100]);
    await rpcCall(node.rpc, "evm_mine");
    const closed = await until(
      "the close from the tail",
      async () => {
        const s = await client.status(sessionId, token);
        return s.state === "closed" ? s : undefined;
      },
      120_000,
    );
    expect(closed).to.deep.include({ state: "closed", readings });
    const events = await pool.queryFilter(pool.filters.EscrowClosed(escrowId));
    expect(events.map((e) => [e.args.amount, Number(e.args.mode)])).to.deep.equal([[bill, 1]]);
    expect(stationLog()).to.match(
      new RegExp(`session ${sessionId}: the station closes escrow ${escrowId} itself \\(mode 1\\)`),
    );
  });

  it("answers a flood with 429 and keeps serving another client; bounds the body", async function () {
    const big = await fetch(`${station!.api}/api/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(100_000) }),
    });
    expect(big.status).to.equal(413);
    const codes: number[] = [];
    for (let i = 0; i < 80; i++) {
      const r = await fetch(`${station!.api}/api/v1/sessions`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      codes.push(r.status);
      await r.body?.cancel();
    }
    expect(codes.filter((c) => c === 429).length).to.be.greaterThan(0);
    expect(codes.filter((c) => c !== 429).every((c) => c === 400)).to.equal(true);
    // Another client (another loopback source address) is served meanwhile.
    const other = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${station!.api}/api/v1/sessions`);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          localAddress: "127.0.0.2",
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.once("error", reject);
      req.end("{}");
    });
    expect(other).to.equal(400);
  });
});
