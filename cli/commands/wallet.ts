/**
 * The driver's wallet as its own process (issue 17): `zkcharge wallet <command>`, with its own encrypted key store
 * (`--wallet FILE` / ZKCHARGE_WALLET; cli/walletStore.ts) and no state file: create, info, deposit, charge at a
 * station by URL, resume after a crash, the session history, withdraw. The chain is `--rpc` and the deployment
 * record (`--deployment`, default deployments/<chainId>.json).
 *
 * `wallet charge`: the station's info and offer, checked against the registry on-chain; a random driver nonce and
 * `sessionId(stationNonce, driverNonce)`; an escrow locked through a relayer service; start; every reading verified
 * as it arrives, with a live meter; a stop on the user's request, a limit, or the first reading that breaks a rule;
 * the close proved from the session end (mode 0) and handed to the station. The session record is written before
 * every network step, so `wallet resume` can pick up after a crash or a lost connection.
 */
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { Contract } from "ethers";
import {
  EscrowStatus,
  LiveSessionVerifier,
  RelayerClient,
  StationClient,
  StationError,
  decodeSignedMeterValue,
  formatAmount,
  passphraseVariables,
  prepareClose,
  randomBits,
  readEscrow,
  readPassphrase,
  sessionId as sessionIdOf,
  tariffFromJson,
  tariffToJson,
  transactRelayRequest,
  checkOffer,
  checkStation,
  escrowDeadlines,
  followStation,
  meterPath,
  SCRYPT_DEFAULT,
  type CheckedOffer,
  type Driver,
  type StationFollowOutcome,
  type RelayRequest,
  type StationReading,
} from "../../sdk/index.ts";
import { defineCommand } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, localDate, proofLine, say, short } from "../format.ts";
import { LiveMeter } from "../liveMeter.ts";
import { acceptLinkableOption, addressArg, amountArg, checkRequired, option, required, wholeArg } from "../options.ts";
import { enforcePrivacy } from "../privacy.ts";
import { relayerOption } from "../relay.ts";
import { TxWatch, chainTime, type Endpoint } from "../rpc.ts";
import { signerConfig, type Role } from "../signers.ts";
import { attachDeployment, driverOf, type WalletDeployment } from "../walletChain.ts";
import { WalletStore, type StoredReading, type WalletSession } from "../walletStore.ts";

const HEADING = "Driver wallet (its own encrypted key store, no state file; live charging at a station):";
/** The wallet file when neither --wallet nor ZKCHARGE_WALLET says. */
export const DEFAULT_WALLET = ".zkcharge/wallet.json";
const MIN_CLAIM_HOURS = 24n;

interface GlobalOptions {
  rpc: string;
  timeout: bigint;
  keystore: { role: Role; path: string }[];
  devChains: bigint[];
}

interface WalletOptions {
  wallet: string;
  deployment?: string;
}

/** The options every wallet command has. */
function walletCommand(root: Command, name: string, description: string): Command {
  return defineCommand(root, `wallet ${name}`, description)
    .helpGroup(HEADING)
    .addOption(
      new Option("--wallet <file>", "the driver's encrypted wallet file")
        .env("ZKCHARGE_WALLET")
        .default(DEFAULT_WALLET),
    );
}

const deploymentOption = () =>
  new Option("--deployment <file>", "the deployment record (default deployments/<chainId>.json)");

/** The run's endpoint (the root's --rpc, --timeout, --keystore, --dev-chains), as `runs` builds it. */
function endpointOf(self: Command): Endpoint {
  const g = self.optsWithGlobals<GlobalOptions>();
  return {
    rpc: g.rpc,
    watch: new TxWatch(g.rpc, Number(g.timeout) * 1000),
    signers: signerConfig(g.keystore ?? [], g.devChains),
  };
}

/** The wallet file's passphrase: ZKCHARGE_PASSPHRASE_WALLET, ZKCHARGE_PASSPHRASE, or typed. */
function walletPassphrase(path: string, confirm = false): Promise<string> {
  return readPassphrase({ what: `the wallet file ${path}`, variables: passphraseVariables("wallet"), confirm });
}

async function openWallet(o: WalletOptions): Promise<WalletStore> {
  const path = resolve(o.wallet);
  return WalletStore.open(path, await walletPassphrase(o.wallet));
}

/**
 * Runs `work` with the open wallet and, if `chain`, the connected deployment; the wallet's lock and the node's
 * connection are released however it ends, and a sent transaction without a receipt in time fails the run.
 */
function walletRuns<O extends WalletOptions>(
  command: Command,
  work: (ctx: { store: WalletStore; d: WalletDeployment; endpoint: Endpoint }, o: O) => Promise<void>,
): Command {
  return command.action(async (o: O, self: Command) => {
    checkRequired(self);
    const endpoint = endpointOf(self);
    const store = await openWallet(o);
    let d: WalletDeployment | undefined;
    try {
      await Promise.race([
        endpoint.watch.failure,
        (async () => {
          d = await attachDeployment(endpoint, o.deployment);
          await work({ store, d, endpoint }, o);
        })(),
      ]);
    } finally {
      endpoint.watch.dispose();
      d?.chain.provider.destroy();
      await store.close();
    }
  });
}

/** The terms a session record was started under, as the verifier takes them. */
function termsOf(s: WalletSession) {
  return {
    sessionId: BigInt(s.sessionId),
    cpoId: BigInt(s.cpoId),
    ratedPowerW: BigInt(s.ratedPowerW),
    meterPublicKey: [BigInt(s.meterPublicKey[0]), BigInt(s.meterPublicKey[1])] as [bigint, bigint],
    tariff: tariffFromJson(s.tariff),
  };
}

/** A stored reading as the station serves it. */
const toStored = (r: StationReading): StoredReading => ({ seqNo: r.seqNo, ...r.signedMeterValue });

/** A verifier with the session's stored readings accepted again (each was verified before it was stored). */
function rebuildVerifier(s: WalletSession): LiveSessionVerifier {
  const verifier = new LiveSessionVerifier(termsOf(s));
  for (const r of s.readings) {
    const { record, publicKey } = decodeSignedMeterValue(r);
    verifier.accept(record, publicKey);
  }
  return verifier;
}

/** Relays a proved request through `relayer` and waits for it to be mined; returns the transaction hash. */
async function relayAndWait(relayer: RelayerClient, request: RelayRequest, timeoutMs: number): Promise<string> {
  const accepted = await relayer.relay(request);
  detail(`relayer job ${accepted.id}: ${accepted.existing ? "already known" : "accepted"}`);
  const job = await relayer.waitForJob(accepted.id, { timeoutMs });
  if (job.status !== "mined" || job.txHash === undefined)
    throw new CliError(`relayer job ${job.id} ${job.status}: ${job.reason ?? "no reason given"}`);
  return job.txHash;
}

/** A relayer service that serves the wallet's pool and chain. */
async function relayerFor(url: string, d: WalletDeployment, timeoutMs: number): Promise<RelayerClient> {
  const client = new RelayerClient(url, { timeoutMs });
  await client.serving(d.chainId, d.pool).catch((error: Error) => {
    throw new CliError(error.message.startsWith("relayer ") ? error.message : `relayer ${url}: ${error.message}`);
  });
  return client;
}

/** Resolves on the user's request to stop: Ctrl-C, or Enter on a terminal. A second Ctrl-C leaves at once. */
function userStopSignal(): { promise: Promise<void>; dispose(): void } {
  let resolveStop!: () => void;
  const promise = new Promise<void>((r) => (resolveStop = r));
  let first: number | undefined;
  const onSigint = () => {
    // One Ctrl-C can arrive twice (the terminal's process group and a wrapper like tsx forwarding it): a second
    // press counts only a second later.
    if (first !== undefined && Date.now() - first < 1000) return;
    if (first === undefined) {
      first = Date.now();
      console.error("\nStopping the session (Ctrl-C again to leave now; `wallet resume` settles it later)");
      resolveStop();
    } else process.exit(130);
  };
  process.on("SIGINT", onSigint);
  const onData = () => resolveStop();
  const tty = process.stdin.isTTY === true;
  if (tty) {
    process.stdin.on("data", onData);
    process.stdin.resume();
  }
  return {
    promise,
    dispose() {
      process.off("SIGINT", onSigint);
      if (tty) {
        process.stdin.off("data", onData);
        process.stdin.pause();
      }
    },
  };
}

interface FollowContext {
  store: WalletStore;
  station: StationClient;
  session: WalletSession;
  verifier: LiveSessionVerifier;
  stopAfterWh?: bigint;
  stopAfterSeconds?: bigint;
}

/**
 * Follows the session's live stream from its last verified reading (reconnecting a few times if the connection
 * drops), persisting every verified reading, until it ends, is closed by the station, or the stream is gone.
 */
async function follow(c: FollowContext): Promise<StationFollowOutcome> {
  const { store, station, verifier } = c;
  const s = c.session;
  const sid = BigInt(s.sessionId);
  const token = s.token!;
  const meter = new LiveMeter(BigInt(s.cap));
  const user = userStopSignal();
  let readings = [...s.readings];
  try {
    return await followStation({
      station,
      sessionId: sid,
      token,
      verifier,
      lastSeqNo: readings.at(-1)?.seqNo ?? -1,
      violation: s.violation,
      stopped: s.stopReason !== undefined,
      stopAfterWh: c.stopAfterWh,
      stopAfterSeconds: c.stopAfterSeconds,
      userStop: user.promise,
      onAccepted: async (reading) => {
        readings = [...readings, toStored(reading)];
        await store.updateSession(s.id, { readings });
        const { record } = decodeSignedMeterValue(reading.signedMeterValue);
        meter.show(reading.seqNo, record.kind, verifier.lastReading!, verifier.points[0]!, verifier.runningBill());
      },
      onViolation: async (seqNo, rule) => {
        meter.break();
        say(`Reading ${seqNo} broke a rule, not counted: ${rule}`);
        await store.updateSession(s.id, { violation: { seqNo, rule } });
      },
      requestStop: async (cause, reason) => {
        meter.break();
        say(`Stopping the session: ${reason}`);
        await store.updateSession(s.id, { stopReason: reason });
        try {
          const answer = await station.stop(sid, token);
          detail(`station: stop ${answer.status}`);
        } catch (error) {
          detail(
            `the station did not take the stop (${(error as Error).message}); ${cause === "violation" ? "no reading after the last valid one is paid" : "it will be retried"}`,
          );
        }
      },
      onState: (state, reason) => {
        meter.break();
        detail(`station: session ${state}${reason ? ` (${reason})` : ""}`);
      },
      onStreamEnd: () => meter.break(),
      onReconnect: (reason, from) => detail(`live stream lost (${reason}): reconnecting from reading ${from}`),
    });
  } finally {
    user.dispose();
  }
}

/** Proves the close from the verified session end (mode 0) and hands it to the station; records the result. */
async function settle(
  store: WalletStore,
  d: WalletDeployment,
  station: StationClient,
  s: WalletSession,
  verifier: LiveSessionVerifier,
): Promise<void> {
  const signed = verifier.session();
  if (!signed) throw new CliError(`session ${s.id} has no verified session end: nothing to prove a close from`);
  const escrowId = BigInt(s.escrowId!);
  const onChain = await readEscrow(d.poolContract, escrowId);
  if (onChain.status !== EscrowStatus.Open) return recordClosedOnChain(store, d, s, "station");
  await store.updateSession(s.id, { state: "ended" });
  const path = await meterPath(d, BigInt(s.cpoId), BigInt(s.meterLeaf));
  const started = Date.now();
  const closing = await prepareClose(d.poolContract, escrowId, signed, path);
  detail(
    `close proof (mode 0, from the session end): prove ${Math.round(closing.proveMs)} ms (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  let answer;
  try {
    answer = await station.close(BigInt(s.sessionId), s.token!, closing);
  } catch (error) {
    // The station is closing it itself (its grace after the end ran out): what the chain says is the outcome.
    if (!(error instanceof StationError) || error.code !== "IN_PROGRESS") throw error;
    detail(`the station is submitting its own close of the session end: waiting for it on-chain`);
    await untilClosed(d, escrowId);
    return recordClosedOnChain(store, d, store.session(s.id), "station");
  }
  const refund = BigInt(s.cap) - answer.amount;
  await store.updateSession(s.id, {
    state: "closed",
    closedBy: "wallet",
    amount: answer.amount.toString(),
    refund: refund.toString(),
    closeTx: answer.txHash,
  });
  say(
    `Session ${s.id} settled: paid ${formatAmount(answer.amount)} of the ${formatAmount(BigInt(s.cap))} cap, ` +
      `refund ${formatAmount(refund)} back in the wallet${answer.existing ? " (the station had it already)" : ""}`,
  );
  detail(`close: tx ${answer.txHash}`);
  if (closing.pub.amount !== answer.amount)
    detail(
      `warning: the station reports ${formatAmount(answer.amount)}, the proof says ${formatAmount(closing.pub.amount)}`,
    );
}

/** Waits (bounded: 3 min) until the escrow is no longer open on-chain. */
async function untilClosed(d: WalletDeployment, escrowId: bigint): Promise<void> {
  const deadline = Date.now() + 180_000;
  while ((await readEscrow(d.poolContract, escrowId)).status === EscrowStatus.Open) {
    if (Date.now() > deadline)
      throw new CliError(`escrow ${short(escrowId)} is still open after 3 min: run \`wallet resume\` later`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Records what the chain says became of the session's escrow (closed by someone else, or refunded). */
async function recordClosedOnChain(
  store: WalletStore,
  d: WalletDeployment,
  s: WalletSession,
  by: "station" | "wallet",
): Promise<void> {
  const driver = await driverOf(store, d);
  await driver.sync();
  const e = driver.escrows.find((x) => x.escrowId === BigInt(s.escrowId!));
  if (!e || e.status === EscrowStatus.Open) throw new CliError(`escrow ${short(BigInt(s.escrowId!))} is still open`);
  const amount = e.status === EscrowStatus.Closed ? (e.charged ?? 0n) : 0n;
  const refund = e.cap - amount;
  await store.updateSession(s.id, {
    state: "closed",
    closedBy: by,
    amount: amount.toString(),
    refund: refund.toString(),
  });
  say(
    `Session ${s.id}: escrow ${e.status === EscrowStatus.Refunded ? "refunded in full" : `closed by the ${by}`}: ` +
      `paid ${formatAmount(amount)}, refund ${formatAmount(refund)} back in the wallet`,
  );
}

/** After following: settle, or say what is left and how to finish. */
async function finish(
  store: WalletStore,
  d: WalletDeployment,
  station: StationClient,
  id: string,
  verifier: LiveSessionVerifier,
  outcome: StationFollowOutcome,
): Promise<void> {
  const s = store.session(id);
  if (outcome.violation)
    detail(`reading ${outcome.violation.seqNo} broke a rule and is not paid: ${outcome.violation.rule}`);
  if (outcome.rejected) {
    await store.updateSession(id, { state: "refused" });
    throw new CliError(
      `session ${id} was refused (${outcome.rejected}): \`wallet refund --session ${id}\` takes the escrow's cap back after its claim deadline ` +
        localDate(BigInt(s.claimDeadline), tariffFromJson(s.tariff)),
    );
  }
  if (outcome.closed) {
    await store.updateSession(id, {
      state: "closed",
      closedBy: "station",
      amount: outcome.closed.amount.toString(),
      refund: outcome.closed.refund.toString(),
      closeTx: outcome.closed.txHash,
    });
    say(
      `Session ${id} closed by the station: paid ${formatAmount(outcome.closed.amount)}, refund ${formatAmount(outcome.closed.refund)}`,
    );
    return;
  }
  if (outcome.ended) {
    const bill = verifier.runningBill()!;
    say(
      `Session ${id} ended: ${verifier.lastReading!.e - verifier.points[0]!.e} Wh, bill ${formatAmount(bill.amount)} (verified)`,
    );
    return settle(store, d, station, s, verifier);
  }
  // The stream ended without the end: the station may have closed the escrow itself (from a tail).
  if ((await readEscrow(d.poolContract, BigInt(s.escrowId!))).status !== EscrowStatus.Open)
    return recordClosedOnChain(store, d, s, "station");
  throw new CliError(
    `session ${id} did not end here (${outcome.lost ?? "the stream ended"}): its readings up to ${outcome.lastSeqNo} are ` +
      `verified and kept; run \`zkcharge wallet resume --session ${id}\` to settle it`,
  );
}

interface ChargeOptions extends WalletOptions {
  station: string;
  charger: string;
  cap: bigint;
  relayer: string;
  stopAfterWh?: bigint;
  stopAfterSeconds?: bigint;
  settleMinutes: bigint;
  claimHours: bigint;
  acceptLinkable?: boolean;
}

async function charge(ctx: { store: WalletStore; d: WalletDeployment; endpoint: Endpoint }, o: ChargeOptions) {
  const { store, d, endpoint } = ctx;
  const timeoutMs = endpoint.watch.timeoutMs;
  const station = new StationClient(o.station, { timeoutMs });
  const info = await station.info();
  checkStation(info, d, o.station);
  const offer = await station.offer(o.charger);
  const now = await chainTime(d.chain.provider);
  const checked: CheckedOffer = await checkOffer(offer, info, d, now);
  say(`Offer from ${info.name} (CPO ${info.cpoId}) for charger ${o.charger}: checked against the registry`);
  detail(
    `tariff ${short(checked.tariffHash)} published by CPO ${checked.cpoId}; meter leaf ${short(checked.meterLeaf)} in its tree, rated ${checked.ratedPowerW} W`,
  );
  if (o.cap < offer.minCap)
    throw new CliError(`--cap ${formatAmount(o.cap)} is below the station's minimum ${formatAmount(offer.minCap)}`);
  const { settleDeadline, claimDeadline } = escrowDeadlines(offer, now, o.settleMinutes, o.claimHours);
  const driverNonce = randomBits(128);
  const sid = sessionIdOf(offer.stationNonce, driverNonce);
  const relayer = await relayerFor(o.relayer, d, timeoutMs);
  const id = `w${store.data.sessions.length + 1}`;
  const stamp = new Date().toISOString();
  const record: WalletSession = {
    id,
    station: station.url,
    chargerId: o.charger,
    cpoId: checked.cpoId.toString(),
    chainId: d.chainId.toString(),
    pool: d.pool,
    tariff: tariffToJson(checked.tariff),
    tariffHash: checked.tariffHash.toString(),
    meterPublicKey: [checked.meterPublicKey[0].toString(), checked.meterPublicKey[1].toString()],
    ratedPowerW: checked.ratedPowerW.toString(),
    meterLeaf: checked.meterLeaf.toString(),
    stationNonce: offer.stationNonce.toString(),
    driverNonce: driverNonce.toString(),
    sessionId: sid.toString(),
    cap: o.cap.toString(),
    settleDeadline: settleDeadline.toString(),
    claimDeadline: claimDeadline.toString(),
    state: "offered",
    readings: [],
    createdAt: stamp,
    updatedAt: stamp,
  };
  await store.update((data) => ({ ...data, sessions: [...data.sessions, record] }));
  // Lock: prove, write the escrow id, then relay (a crash after the relay finds it on-chain by that id).
  const driver: Driver = await driverOf(store, d);
  const quote = await relayer.quote("lock");
  const started = Date.now();
  const locking = await driver.prepareLock({
    cpoId: checked.cpoId,
    stationNonce: offer.stationNonce,
    driverNonce,
    sessionId: sid,
    cap: o.cap,
    settleDeadline,
    claimDeadline,
    fee: quote.fee,
    relayer: quote.relayer,
  });
  proofLine(locking.witnessMs, locking.proveMs, Date.now() - started);
  enforcePrivacy("lock", locking.privacy, o.acceptLinkable);
  await store.updateSession(id, { state: "locking", escrowId: locking.escrowId.toString(), fee: quote.fee.toString() });
  const lockTx = await relayAndWait(
    relayer,
    { operation: "lock", proof: locking.groth16, publicSignals: locking.pub, extData: locking.ext, quote },
    timeoutMs,
  );
  await store.updateSession(id, { state: "locked", lockTx });
  say(
    `Escrow locked for session ${id}: cap ${formatAmount(o.cap)} (relayer fee ${formatAmount(quote.fee)}), tx ${lockTx}`,
  );
  detail(`session id ${short(sid)}, escrow id ${short(locking.escrowId)}`);
  detail(
    `settle deadline ${localDate(settleDeadline, checked.tariff)}, claim deadline ${localDate(claimDeadline, checked.tariff)} (local)`,
  );
  await startAndFollow(store, d, station, id, o);
}

/** Asks the station to start the locked session `id`, then follows and settles it. */
async function startAndFollow(
  store: WalletStore,
  d: WalletDeployment,
  station: StationClient,
  id: string,
  limits: { stopAfterWh?: bigint; stopAfterSeconds?: bigint },
): Promise<void> {
  const s = store.session(id);
  const answer = await station.start({
    chargerId: s.chargerId,
    stationNonce: BigInt(s.stationNonce),
    driverNonce: BigInt(s.driverNonce),
    escrowId: BigInt(s.escrowId!),
  });
  await store.updateSession(id, { state: answer.state === "rejected" ? "refused" : "charging", token: answer.token });
  say(`Station started session ${id} (${answer.state}): verifying every reading (Ctrl-C or Enter stops)`);
  const session = store.session(id);
  const verifier = rebuildVerifier(session);
  const { stopAfterWh, stopAfterSeconds } = limits;
  const outcome = await follow({ store, station, session, verifier, stopAfterWh, stopAfterSeconds });
  await finish(store, d, station, id, verifier, outcome);
}

export function registerWalletCommands(root: Command): void {
  walletCommand(root, "create", "create the driver's wallet file: a new Semaphore identity, encrypted (no chain)")
    .addOption(new Option("--force", "replace an existing wallet file (its identity and notes are lost)"))
    .addOption(
      option("--scrypt-log-n <n>", "scrypt cost: N = 2^n; lower than 17 only for tests", (text) => {
        if (!/^\d+$/.test(text) || Number(text) < 10 || Number(text) > 20)
          throw new Error(`"${text}" is not a whole number 10..20`);
        return Number(text);
      }).default(Math.log2(SCRYPT_DEFAULT.N), String(Math.log2(SCRYPT_DEFAULT.N))),
    )
    .action(async (o: WalletOptions & { force?: boolean; scryptLogN: number }) => {
      const path = resolve(o.wallet);
      const passphrase = await walletPassphrase(o.wallet, true);
      const store = await WalletStore.create(path, passphrase, {
        force: o.force,
        scrypt: { ...SCRYPT_DEFAULT, N: 2 ** o.scryptLogN },
      });
      await store.close();
      say(
        `Driver wallet created: ${o.wallet} (identity commitment ${short(store.identity.commitment)}, never published)`,
      );
      detail(`passphrase from ${passphraseVariables("wallet").join(" or ")}, or typed`);
    });

  walletRuns<WalletOptions>(
    walletCommand(
      root,
      "info",
      "the wallet's identity commitment and private balance after a sync (no address)",
    ).addOption(deploymentOption()),
    async ({ store, d }) => {
      const driver = await driverOf(store, d);
      const notes = (await driver.sync()).filter((n) => n.note.value > 0n);
      say(`Wallet ${store.path}: identity commitment ${short(store.identity.commitment)}`);
      detail(`chain ${d.chainId}, pool ${d.pool}`);
      detail(`private balance ${formatAmount(driver.balance)} in ${notes.length} note(s)`);
      const open = driver.escrows.filter((e) => e.status === EscrowStatus.Open);
      if (open.length > 0)
        detail(`${formatAmount(open.reduce((x, e) => x + e.cap, 0n))} locked in ${open.length} open escrow(s)`);
      const unfinished = store.data.sessions.filter(
        (s) => s.state === "charging" || s.state === "ended" || s.state === "locking" || s.state === "locked",
      );
      if (unfinished.length > 0)
        detail(`unfinished session(s): ${unfinished.map((s) => s.id).join(", ")} (\`wallet resume --session <id>\`)`);
    },
  );

  walletRuns<WalletOptions & { session: string; acceptLinkable?: boolean }>(
    walletCommand(
      root,
      "refund",
      "take back the whole cap of a session's escrow that nobody closed, after its claim deadline (sent by the payer)",
    )
      .addOption(required(new Option("--session <id>", "the wallet's session (see `wallet sessions`)"), "w1"))
      .addOption(acceptLinkableOption())
      .addOption(deploymentOption()),
    async ({ store, d }, o) => {
      const s = store.session(o.session);
      if (s.escrowId === undefined) throw new CliError(`session ${s.id} locked no escrow: nothing to refund`);
      const escrow = await readEscrow(d.poolContract, BigInt(s.escrowId));
      if (escrow.status !== EscrowStatus.Open)
        throw new CliError(
          `the escrow of session ${s.id} is ${EscrowStatus[escrow.status]}, not open: nothing to refund`,
        );
      const now = await chainTime(d.chain.provider);
      if (now <= escrow.claimDeadline)
        throw new CliError(
          `the escrow of session ${s.id} refunds only after its claim deadline ${localDate(escrow.claimDeadline, tariffFromJson(s.tariff))} ` +
            `(local; the station may close it until then)`,
        );
      // The pool refunds to the escrow's refund precommitment whoever sends it; no relayer takes refunds (there is no
      // fee to pay one), so the payer account sends it, and that links the payer to this escrow.
      if (!o.acceptLinkable)
        throw new CliError(
          "the refund is sent from the payer account, which links that account to this escrow on-chain: " +
            "pass --accept-linkable to send it anyway",
        );
      const payer = await d.chain.signer(2);
      const driver = await driverOf(store, d);
      const receipt = await driver.refund(escrow.escrowId, payer);
      await store.updateSession(s.id, {
        state: "refunded",
        amount: "0",
        refund: escrow.cap.toString(),
        closeTx: receipt.hash,
      });
      await driver.sync();
      say(`Refunded the escrow of session ${s.id}: ${formatAmount(escrow.cap)} back in the wallet, tx ${receipt.hash}`);
      detail(`private balance ${formatAmount(driver.balance)}`);
    },
  );

  walletRuns<WalletOptions & { amount: bigint }>(
    walletCommand(
      root,
      "deposit",
      "deposit into a new private note, paid by the payer (its keystore, or account 2 on dev chains)",
    )
      .addOption(required(option("--amount <EUR>", "amount, e.g. 20.00", amountArg()), "20.00"))
      .addOption(deploymentOption()),
    async ({ store, d }, o) => {
      const payer = await d.chain.signer(2);
      const token = new Contract(
        d.record.addresses.token,
        ["function balanceOf(address) view returns (uint256)"],
        d.chain.provider,
      );
      const funds = (await token.getFunction("balanceOf")(payer.address)) as bigint;
      if (funds < o.amount)
        throw new CliError(
          `the payer ${payer.address} holds ${formatAmount(funds)}, less than ${formatAmount(o.amount)}`,
        );
      const driver = await driverOf(store, d);
      const { receipt } = await driver.deposit(o.amount, payer);
      await driver.sync();
      say(`Deposited ${formatAmount(o.amount)} from the payer ${payer.address}: tx ${receipt.hash}`);
      detail(`private balance ${formatAmount(driver.balance)}`);
    },
  );

  walletRuns<ChargeOptions>(
    walletCommand(
      root,
      "charge",
      "charge at a station: check its offer on-chain, lock an escrow, verify every reading, settle",
    )
      .addOption(
        required(
          new Option("--station <url>", "the station's driver API, e.g. http://127.0.0.1:9100"),
          "http://127.0.0.1:9100",
        ),
      )
      .addOption(required(new Option("--charger <id>", "the charger (EVSE) to charge at"), "CS001"))
      .addOption(
        required(option("--cap <EUR>", "the most the session may charge (locked in the escrow)", amountArg()), "20.00"),
      )
      .addOption(required(relayerOption(), "http://127.0.0.1:8080"))
      .addOption(option("--stop-after-wh <n>", "stop once this much energy was delivered", wholeArg(10n ** 9n)))
      .addOption(option("--stop-after-seconds <n>", "stop this long after the start", wholeArg(10n ** 7n)))
      .addOption(
        option(
          "--settle-minutes <n>",
          "settle deadline = now + this, rounded up to the 15-minute grid",
          wholeArg(30n * 24n * 60n),
        ).default(120n, "120"),
      )
      .addOption(
        option("--claim-hours <n>", `claim deadline = settle deadline + this (>= ${MIN_CLAIM_HOURS})`, (text) => {
          const h = wholeArg(365n * 24n)(text);
          if (h < MIN_CLAIM_HOURS) throw new Error(`the pool requires at least ${MIN_CLAIM_HOURS} hours`);
          return h;
        }).default(48n, "48"),
      )
      .addOption(acceptLinkableOption())
      .addOption(deploymentOption()),
    charge,
  );

  walletRuns<WalletOptions & { session?: string; stopAfterWh?: bigint; stopAfterSeconds?: bigint }>(
    walletCommand(root, "resume", "after a crash or a lost connection: reconnect, verify the readings since, settle")
      .addOption(new Option("--session <id>", "the session (w1..., or its session id; default: the last unfinished)"))
      .addOption(
        option(
          "--stop-after-wh <n>",
          "stop once this much energy was delivered (since the start)",
          wholeArg(10n ** 9n),
        ),
      )
      .addOption(option("--stop-after-seconds <n>", "stop this long after the start", wholeArg(10n ** 7n)))
      .addOption(deploymentOption()),
    async ({ store, d, endpoint }, o) => {
      const s = store.session(o.session);
      const station = new StationClient(s.station, { timeoutMs: endpoint.watch.timeoutMs });
      say(
        `Resuming session ${s.id} at ${s.station} (charger ${s.chargerId}, state ${s.state}, ${s.readings.length} reading(s) verified)`,
      );
      if (s.state === "closed" || s.state === "refused") {
        say(`Session ${s.id} is already ${s.state}`);
        return;
      }
      if (s.escrowId !== undefined) {
        const onChain = await readEscrow(d.poolContract, BigInt(s.escrowId));
        if (onChain.status === EscrowStatus.Closed || onChain.status === EscrowStatus.Refunded)
          return recordClosedOnChain(store, d, s, "station");
        if (s.state === "locking") {
          if (onChain.status === EscrowStatus.None)
            throw new CliError(
              `session ${s.id}'s lock never reached the chain: nothing is locked; start a new session with \`wallet charge\``,
            );
          await store.updateSession(s.id, { state: "locked" });
        }
      } else throw new CliError(`session ${s.id} never locked an escrow: nothing to resume`);
      if (store.session(s.id).state === "locked") return startAndFollow(store, d, station, s.id, o);
      const verifier = rebuildVerifier(s);
      if (verifier.ended) return settle(store, d, station, store.session(s.id), verifier);
      const outcome = await follow({
        store,
        station,
        session: s,
        verifier,
        stopAfterWh: o.stopAfterWh,
        stopAfterSeconds: o.stopAfterSeconds,
      });
      await finish(store, d, station, s.id, verifier, outcome);
    },
  );

  walletCommand(
    root,
    "sessions",
    "the wallet's charging sessions: station, charger, state, amounts and refunds (no chain)",
  ).action(async (o: WalletOptions) => {
    const store = await openWallet(o);
    try {
      const sessions = store.data.sessions;
      say(`Wallet ${o.wallet}: ${sessions.length} session(s)`);
      for (const s of sessions) {
        const cap = formatAmount(BigInt(s.cap));
        const paid =
          s.amount !== undefined
            ? `paid ${formatAmount(BigInt(s.amount))}, refund ${formatAmount(BigInt(s.refund ?? "0"))}` +
              (s.closedBy ? ` (closed by the ${s.closedBy})` : "")
            : "not settled";
        detail(
          `${s.id}: ${s.station} charger ${s.chargerId}, ${s.state}, cap ${cap}, ${s.readings.length} reading(s), ${paid}`,
        );
        if (s.violation) detail(`    reading ${s.violation.seqNo} broke a rule: ${s.violation.rule}`);
        if (s.stopReason) detail(`    stopped: ${s.stopReason}`);
      }
    } finally {
      await store.close();
    }
  });

  walletRuns<WalletOptions & { to: string; amount?: bigint; relayer: string; acceptLinkable?: boolean }>(
    walletCommand(root, "withdraw", "withdraw to an address through a relayer service (it quotes the fee and submits)")
      .addOption(required(option("--to <addr>", "recipient address", addressArg), "0x..."))
      .addOption(
        option("--amount <EUR>", "amount (default: everything the two largest notes hold, less the fee)", amountArg()),
      )
      .addOption(required(relayerOption(), "http://127.0.0.1:8080"))
      .addOption(acceptLinkableOption())
      .addOption(deploymentOption()),
    async ({ store, d, endpoint }, o) => {
      const relayer = await relayerFor(o.relayer, d, endpoint.watch.timeoutMs);
      const driver = await driverOf(store, d);
      const quote = await relayer.quote("transact");
      const started = Date.now();
      const tx = await driver.prepareWithdraw({ to: o.to, amount: o.amount, relayer: quote.relayer, fee: quote.fee });
      proofLine(tx.witnessMs, tx.proveMs, Date.now() - started);
      enforcePrivacy("withdrawal", tx.privacy, o.acceptLinkable);
      const hash = await relayAndWait(relayer, transactRelayRequest(tx, quote), endpoint.watch.timeoutMs);
      await driver.sync();
      say(
        `Withdrew ${formatAmount(-tx.ext.extAmount)} to ${o.to} (relayer fee ${formatAmount(quote.fee)}): tx ${hash}`,
      );
      detail(`private balance ${formatAmount(driver.balance)}`);
    },
  );
}
