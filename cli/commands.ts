/**
 * The zkcharge CLI's commands. Each one validates its options and the state first (no network, no
 * writes), then talks to the chain, then returns the new state, which the caller saves atomically.
 * A command that throws leaves the state file as it was.
 */
import { Contract, JsonRpcProvider, Network, getAddress, isAddress, type ContractTransactionReceipt, type JsonRpcSigner } from "ethers";
import { deployZkcharge } from "../dev/deploy.ts";
import { Driver, submitLock, submitTransaction } from "../sdk/actors/driver.ts";
import { EscrowStatus, readEscrow, type Closing } from "../sdk/actors/escrow.ts";
import { DriverIdentity } from "../sdk/core/identity.ts";
import { Meter, type MeterSession } from "../sdk/meter/meter.ts";
import { type LiveTail, type Reading } from "../sdk/meter/record.ts";
import { formatAmount, parseAmount } from "../sdk/core/money.ts";
import { Operator } from "../sdk/actors/operator.ts";
import { clock, computeBill, timeOfDay, validateTariff, type BandTuple, type Bill, type Tariff } from "../sdk/tariff/tariff.ts";
import { Pool__factory, Registry__factory, type Pool, type Registry } from "../types/ethers-contracts/index.js";
import { DAY, HOUR, demoTariff, nextLocalTime, simulateSession, startLiveSession } from "../dev/localNetwork.ts";
import { STATE_VERSION, loadState, saveState, type CliState, type EscrowRecord, type SessionRecordEntry } from "./state.ts";
import { simulateCharging } from "../sdk/meter/simulator.ts";

export const DEFAULT_RPC = "http://127.0.0.1:8545";
export const DEFAULT_STATE = ".zkcharge/state.json";
const PAYER_FUNDS = 1_000_000_000n; // 1000 tEUR minted to the payer on deploy
const DEFAULT_RELAYER_FEE = 20_000n;
const D = 3_600_000n;
const START_ENERGY = 5_000_000n; // Wh on the register at plug-in (simulated meters)
const MIN_SETTLE_WINDOW = 15n * 60n; // the pool's rules (docs/protocol.md, Escrowed sessions)
const MIN_CLAIM_HOURS = 24n;
const VERIFY_MIN_SECONDS_TO_SETTLE = HOUR; // what `cpo verify-escrow` requires before switching on

/** A usage or state error: the message names the cause; exit code 1, state untouched. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Command name to the options it takes (beyond --state, --rpc, --help). */
export const COMMANDS = {
  deploy: ["force"],
  "cpo register": ["payout"],
  "cpo withdraw": [],
  "meter add": ["power-w"],
  "meter revoke": ["meter"],
  "tariff publish": ["flat-fee", "energy-prices", "band-starts", "time-price", "max-price", "tz", "valid-days"],
  "driver new": ["force"],
  "driver deposit": ["amount"],
  "driver pay": ["session"],
  "driver balance": [],
  "driver withdraw": ["to", "amount", "fee"],
  "driver lock": ["session", "cap", "settle-minutes", "claim-hours", "fee"],
  "driver refund": ["escrow"],
  "session start": ["from", "meter"],
  "session simulate": ["from", "minutes", "power-w", "meter", "session", "keep-open"],
  "cpo verify-escrow": ["escrow", "min-cap"],
  "cpo close": ["escrow", "tail"],
  "chain advance": ["minutes"],
  status: [],
} as const satisfies Record<string, readonly string[]>;
export type CommandName = keyof typeof COMMANDS;

export interface RunContext {
  values: Record<string, string | boolean | undefined>;
  statePath: string;
  rpc: string;
}

// ---------------------------------------------------------------------------------------------- output

const say = (line: string) => console.log(line);
const detail = (line: string) => console.log(`    ${line}`);
const short = (x: bigint | string) => { const s = x.toString(); return s.length > 18 ? `${s.slice(0, 16)}...` : s; };
const kwh = (wh: bigint) => `${wh / 1000n}.${(wh % 1000n).toString().padStart(3, "0")} kWh`;
function txLine(what: string, r: ContractTransactionReceipt): void {
  detail(`${what}: tx ${r.hash} (block ${r.blockNumber}, gas ${r.gasUsed.toLocaleString("en-US")})`);
}

// ---------------------------------------------------------------------------------------------- parsing

function str(ctx: RunContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === "string" ? v : undefined;
}
function required(ctx: RunContext, name: string, example: string): string {
  const v = str(ctx, name);
  if (v === undefined || v === "") throw new CliError(`missing --${name} (e.g. --${name} ${example})`);
  return v;
}
function amountOption(name: string, text: string, { positive = true } = {}): bigint {
  let value: bigint;
  try {
    value = parseAmount(text);
  } catch (error) {
    throw new CliError(`--${name}: ${(error as Error).message}`);
  }
  if (positive && value === 0n) throw new CliError(`--${name}: must be more than 0`);
  return value;
}
function integerOption(name: string, text: string, max: bigint): bigint {
  if (!/^\d+$/.test(text)) throw new CliError(`--${name}: "${text}" is not a whole number`);
  const value = BigInt(text);
  if (value === 0n || value > max) throw new CliError(`--${name}: ${text} is outside 1..${max}`);
  return value;
}
function timeOption(name: string, text: string): bigint {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new CliError(`--${name}: "${text}" is not a time of day HH:MM (00:00..23:59)`);
  return BigInt(m[1]!) * HOUR + BigInt(m[2]!) * 60n;
}
function addressOption(name: string, text: string): string {
  if (!isAddress(text)) throw new CliError(`--${name}: "${text}" is not an Ethereum address`);
  return getAddress(text);
}
function tzOption(text: string): bigint {
  const m = /^([+-])(\d{1,2}):([0-5]\d)$/.exec(text);
  if (!m || Number(m[2]) > 14) throw new CliError(`--tz: "${text}" is not a UTC offset like +01:00 or -05:00`);
  const offset = BigInt(m[2]!) * HOUR + BigInt(m[3]!) * 60n;
  return m[1] === "-" ? (DAY - offset) % DAY : offset;
}

// ---------------------------------------------------------------------------------------------- chain

interface Chain {
  provider: JsonRpcProvider;
  chainId: bigint;
  /** Role accounts: 0 deployer, 1 CPO, 2 payer, 3 relayer. */
  signer(role: 0 | 1 | 2 | 3): Promise<JsonRpcSigner>;
}

const ROLE_NAMES = ["deployer", "CPO", "payer", "relayer"];

async function connect(rpc: string): Promise<Chain> {
  let chainId: bigint;
  try {
    const response = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`eth_chainId returned ${JSON.stringify(body)}`);
    chainId = BigInt(body.result);
  } catch (error) {
    const inner = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (error as Error).message;
    throw new CliError(`cannot reach the JSON-RPC endpoint ${rpc} (${cause}): start one with \`npx hardhat node\`, or pass --rpc / set ZKCHARGE_RPC`);
  }
  const provider = new JsonRpcProvider(rpc, Network.from(chainId), { staticNetwork: true, pollingInterval: 200 });
  let accounts: string[] | undefined;
  return {
    provider,
    chainId,
    async signer(role) {
      accounts ??= (await provider.send("eth_accounts", [])) as string[];
      if (accounts.length <= role) {
        throw new CliError(`the node at ${rpc} exposes ${accounts.length} unlocked account(s); the ${ROLE_NAMES[role]} is account ${role} ` +
          "(zkcharge needs 4: use `npx hardhat node` or another dev node)");
      }
      return provider.getSigner(role);
    },
  };
}

interface Deployed extends Chain {
  state: CliState;
  pool: Pool;
  registry: Registry;
  token: Contract;
}

async function attach(ctx: RunContext, state: CliState): Promise<Deployed> {
  const chain = await connect(ctx.rpc);
  if (chain.chainId !== state.chainId) {
    throw new CliError(`${ctx.rpc} is chain ${chain.chainId}, but ${ctx.statePath} was deployed on chain ${state.chainId}`);
  }
  if ((await chain.provider.getCode(state.addresses.pool)) === "0x") {
    throw new CliError(`no Pool contract at ${state.addresses.pool} on ${ctx.rpc}: the node was restarted since \`deploy\`? ` +
      "Run `deploy --force` to start over");
  }
  return {
    ...chain,
    state,
    pool: Pool__factory.connect(state.addresses.pool, chain.provider),
    registry: Registry__factory.connect(state.addresses.registry, chain.provider),
    token: new Contract(state.addresses.token, ["function balanceOf(address) view returns (uint256)"], chain.provider),
  };
}

// ---------------------------------------------------------------------------------------------- state checks

function needState(ctx: RunContext, state: CliState | undefined): CliState {
  if (!state) throw new CliError(`no deployment in ${ctx.statePath}: run \`zkcharge deploy\` first (or pass --state)`);
  return state;
}
function needCpo(state: CliState): NonNullable<CliState["cpo"]> {
  if (!state.cpo) throw new CliError("no CPO registered yet: run `zkcharge cpo register` first");
  return state.cpo;
}
function needDriver(state: CliState): DriverIdentity {
  if (!state.driver) throw new CliError("no driver identity yet: run `zkcharge driver new` first");
  return DriverIdentity.fromSecret(state.driver.secret);
}
function findMeter(state: CliState, ref: string | undefined) {
  if (ref === undefined) {
    const active = state.meters.filter((m) => !m.revoked).at(-1);
    if (!active) throw new CliError("no active meter: run `zkcharge meter add --power-w 22000` first");
    return active;
  }
  const meter = state.meters.find((m) => m.id === ref || m.leaf.toString() === ref);
  if (!meter) {
    throw new CliError(`unknown meter "${ref}" (known: ${state.meters.map((m) => m.id).join(", ") || "none"})`);
  }
  return meter;
}
function findSession(state: CliState, ref: string): SessionRecordEntry {
  const session = state.sessions.find((s) => s.id === ref || (s.session?.sessionId ?? s.live?.sessionId)?.toString() === ref);
  if (!session) {
    throw new CliError(`unknown session "${ref}" (known: ${state.sessions.map((s) => s.id).join(", ") || "none"}; ` +
      "create one with `zkcharge session simulate` or `zkcharge session start`)");
  }
  return session;
}
function operatorOf(d: Deployed, cpo: NonNullable<CliState["cpo"]>, signer: JsonRpcSigner): Operator {
  return new Operator({ cpoId: cpo.cpoId, registry: d.registry, pool: d.pool, signer });
}
function meterOf(record: CliState["meters"][number]): Meter {
  return new Meter({ cpoId: record.cpoId, ratedPowerW: record.ratedPowerW, privateKey: Buffer.from(record.privateKey.slice(2), "hex") });
}
async function chainTime(provider: JsonRpcProvider): Promise<bigint> {
  return BigInt((await provider.getBlock("latest"))!.timestamp);
}
function localClock(t: bigint, tariff: Tariff): string {
  return clock(timeOfDay(t, tariff)).slice(0, 5);
}
function tzText(tzOffset: bigint): string {
  const minutes = Number(tzOffset > 12n * HOUR ? tzOffset - DAY : tzOffset) / 60;
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function localDate(t: bigint, tariff: Tariff): string {
  return new Date(Number(t + tariff.tzOffset) * 1000).toISOString().slice(0, 16).replace("T", " ");
}
function latestTariff(state: CliState): Tariff {
  const latest = state.tariffs.at(-1);
  if (!latest) throw new CliError("no tariff published yet: run `zkcharge tariff publish` first");
  return latest.tariff;
}
function activeMeter(state: CliState, ref: string | undefined) {
  const record = findMeter(state, ref);
  if (record.revoked) throw new CliError(`meter ${record.id} is revoked: add a new one with \`zkcharge meter add\``);
  return record;
}
function findEscrow(state: CliState, ref: string): EscrowRecord {
  const escrows = state.escrows ?? [];
  const escrow = escrows.find((e) => e.id === ref || e.escrowId.toString() === ref);
  if (!escrow) {
    throw new CliError(`unknown escrow "${ref}" (known: ${escrows.map((e) => e.id).join(", ") || "none"}; ` +
      "lock one with `zkcharge driver lock --session <id> --cap <EUR>`)");
  }
  return escrow;
}
function escrowSession(state: CliState, escrow: EscrowRecord): SessionRecordEntry {
  return findSession(state, escrow.sessionRef);
}
/** Rebuilds a started session's meter state by replaying its readings (EdDSA signatures are deterministic). */
function replay(state: CliState, entry: SessionRecordEntry): { live: MeterSession; readings: Reading[] } {
  const rec = entry.live!;
  const live = meterOf(findMeter(state, entry.meterId)).startSession({ sessionId: rec.sessionId, tariff: rec.tariff, t: rec.start.t, e: rec.start.e });
  const readings = rec.readings.map((r) => live.addReading(r.t, r.e));
  return { live, readings };
}
/** The last live tail that still extends the chain (the dispute evidence), if any. */
function lastTail(readings: Reading[], pointCount: number): LiveTail | undefined {
  const last = readings.at(-1);
  return last?.kind === "live" && last.k === pointCount ? last : undefined;
}
function printBill(bill: Bill, tariff: Tariff, tailFrom?: bigint): void {
  detail(`flat fee ${formatAmount(tariff.flatFee)}`);
  for (const iv of bill.perInterval) {
    detail(`${localClock(iv.tStart, tariff)}-${localClock(iv.tEnd, tariff)} band ${iv.band} @ ${formatAmount(tariff.energyPrice[iv.band]!)}/kWh: ` +
      `${kwh(iv.de)} = ${formatAmount(iv.energyNumerator / D)}, ${iv.dt / 60n} min plugged in = ${formatAmount(iv.timeNumerator / D)}` +
      (tailFrom !== undefined && iv.tStart === tailFrom ? " (live tail interval)" : ""));
  }
}
function tariffOfEscrow(state: CliState, escrow: EscrowRecord): Tariff {
  const entry = escrowSession(state, escrow);
  return entry.live?.tariff ?? entry.session?.tariff ?? latestTariff(state);
}
function describeEscrow(e: EscrowRecord, tariff: Tariff): string {
  const terms = `cap ${formatAmount(e.cap)}, settle by ${localDate(e.settleDeadline, tariff)}, claim by ${localDate(e.claimDeadline, tariff)}`;
  if (e.status === "open") return `open, ${terms}`;
  if (e.status === "refunded") return `refunded in full (${formatAmount(e.cap)})`;
  return `closed ${e.closeMode === "tail" ? "from a live tail" : "by the session end"}, charged ${formatAmount(e.charged ?? 0n)} of ${formatAmount(e.cap)}`;
}
function minutesUntil(from: bigint, to: bigint): bigint {
  return (to - from + 59n) / 60n;
}

// ---------------------------------------------------------------------------------------------- commands

type Handler = (ctx: RunContext, state: CliState | undefined) => Promise<CliState | undefined>;

/** The driver's escrows as rebuilt from events, with the state's handles where known. */
function printDriverEscrows(state: CliState, driver: Driver): void {
  for (const e of driver.escrows) {
    const rec = (state.escrows ?? []).find((r) => r.escrowId === e.escrowId);
    const name = rec ? `escrow ${rec.id} (session ${rec.sessionRef})` : `escrow ${short(e.escrowId)}`;
    const tariff = rec ? tariffOfEscrow(state, rec) : state.tariffs.at(-1)?.tariff;
    const when = (t: bigint) => (tariff ? localDate(t, tariff) : t.toString());
    if (e.status === EscrowStatus.Open) {
      detail(`${name}: open, ${formatAmount(e.cap)} locked (settle by ${when(e.settleDeadline)}, refundable after ${when(e.claimDeadline)})`);
    } else if (e.status === EscrowStatus.Refunded) {
      detail(`${name}: refunded, ${formatAmount(e.cap)} back in the wallet`);
    } else {
      const how = rec?.closeMode === "tail" ? "closed from a live tail" : rec?.closeMode === "final" ? "closed by the session end" : "closed";
      detail(`${name}: ${how}, charged ${formatAmount(e.charged ?? 0n)} of ${formatAmount(e.cap)}, ` +
        `refund ${formatAmount(e.cap - (e.charged ?? 0n))} back in the wallet`);
    }
  }
}

/** `session simulate --session sN`: charges a started session on, then ends it (or, with --keep-open, leaves only live tails). */
async function continueSession(ctx: RunContext, state: CliState, ref: string): Promise<CliState> {
  if (str(ctx, "from") !== undefined) throw new CliError("--from does not apply with --session: the session started at plug-in (`session start --from`)");
  const entry = findSession(state, ref);
  if (!entry.live) throw new CliError(`session ${entry.id} was not begun with \`session start\`: nothing to continue`);
  if (entry.status !== "started") throw new CliError(`session ${entry.id} has ${entry.status === "paid" ? "been paid" : "ended"}: nothing to continue`);
  const minutes = integerOption("minutes", required(ctx, "minutes", "50"), 24n * 60n);
  if (minutes === 0n) throw new CliError("--minutes: must be more than 0");
  const power = integerOption("power-w", required(ctx, "power-w", "11000"), (1n << 24n) - 1n);
  const record = findMeter(state, entry.meterId);
  if (record.revoked) throw new CliError(`meter ${record.id} was revoked since the session started`);
  if (power > record.ratedPowerW) throw new CliError(`--power-w: ${power} W exceeds meter ${record.id}'s rating of ${record.ratedPowerW} W`);
  const keepOpen = ctx.values["keep-open"] === true;
  const rec = entry.live;
  const { tariff } = rec;
  const { live, readings: before } = replay(state, entry);
  const from = rec.readings.at(-1) ?? rec.start;
  const added = simulateCharging(live, { to: from.t + minutes * 60n, powerW: power, stepSeconds: 300n });
  const readings = [...rec.readings, ...added.map((r) => ({ t: r.t, e: r.e }))];
  const last = readings.at(-1)!;
  const energy = kwh(last.e - rec.start.e);
  const span = `${localClock(rec.start.t, tariff)}-${localClock(last.t, tariff)} local`;
  const next: SessionRecordEntry = { ...entry, live: { ...rec, readings } };
  if (keepOpen) {
    const tails = [...before, ...added].filter((r) => r.kind === "live").length;
    const tail = lastTail(added, live.points.length);
    const pts = tail ? [...live.points, { t: tail.t, e: tail.e }] : live.points;
    const sofar = computeBill(pts, tariff, record.ratedPowerW).amount;
    say(`Session ${entry.id} charging, not ended: ${span}, ${energy} so far, bill so far ${formatAmount(sofar)}`);
    live.points.forEach((p, i) => detail(`chain point ${i + 1}: ${localClock(p.t, tariff)}  register ${kwh(p.e)}`));
    detail(tail ? `${tails} live tail(s) signed, the last at ${localClock(tail.t, tariff)} (register ${kwh(tail.e)})` :
      "the last reading is a chain point (a tariff boundary): no live tail after it yet");
    return { ...state, sessions: state.sessions.map((s) => (s.id === entry.id ? next : s)) };
  }
  const session = live.end(last.t, last.e);
  const bill = computeBill(session.points, tariff, session.ratedPowerW);
  say(`Session ${entry.id} ended: ${span}, ${energy}, bill ${formatAmount(bill.amount)}`);
  session.points.forEach((p, i) => detail(`chain point ${i + 1}: ${localClock(p.t, tariff)}  register ${kwh(p.e)}`));
  detail(`the meter signed the session end, session id ${short(session.sessionId)}`);
  const ended: SessionRecordEntry = { ...next, session, amount: bill.amount, status: "unpaid" };
  return { ...state, sessions: state.sessions.map((s) => (s.id === entry.id ? ended : s)) };
}

const handlers: Record<CommandName, Handler> = {
  async deploy(ctx, state) {
    if (state && !ctx.values.force) {
      throw new CliError(`${ctx.statePath} already holds a deployment (pool ${state.addresses.pool} on chain ${state.chainId}): ` +
        "pass --force to deploy afresh and replace it (its secrets are lost), or use another --state");
    }
    const chain = await connect(ctx.rpc); // clear error when the node is down, before loading Hardhat
    chain.provider.destroy();
    const { network } = await import("hardhat");
    const connection = await network.create({ network: "localhost", override: { url: ctx.rpc } });
    try {
      const { ethers } = connection;
      const signers = await ethers.getSigners();
      if (signers.length < 4) throw new CliError(`the node at ${ctx.rpc} exposes ${signers.length} unlocked account(s); zkcharge needs 4`);
      const [deployer, , payer] = signers;
      say(`Deploying to ${ctx.rpc} (chain ${chain.chainId}) from ${deployer!.address}`);
      const deployment = await deployZkcharge(ethers, { signer: deployer, log: (m) => detail(m) });
      const mint = (await (await deployment.testToken!.mint(payer!.address, PAYER_FUNDS)).wait())!;
      txLine(`minted ${formatAmount(PAYER_FUNDS)} to the payer ${payer!.address}`, mint as unknown as ContractTransactionReceipt);
      const a = deployment.addresses;
      say(`Deployed; state written to ${ctx.statePath}`);
      return {
        version: STATE_VERSION, chainId: a.chainId, deployedAt: new Date().toISOString(),
        addresses: { token: a.token, registry: a.registry, pool: a.pool, payVerifier: a.payVerifier, transactVerifier: a.transactVerifier },
        meters: [], tariffs: [], sessions: [],
      };
    } finally {
      await connection.close();
    }
  },

  async "cpo register"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const payoutText = str(ctx, "payout");
    const payout = payoutText === undefined ? undefined : addressOption("payout", payoutText);
    if (state.cpo) throw new CliError(`a CPO is already registered in this state (cpoId ${state.cpo.cpoId})`);
    const d = await attach(ctx, state);
    const admin = await d.signer(1);
    const operator = await Operator.register({ registry: d.registry, pool: d.pool, signer: admin, payout });
    const [event] = await d.registry.queryFilter(d.registry.filters.CpoRegistered(operator.cpoId));
    const receipt = (await d.provider.getTransactionReceipt(event!.transactionHash))!;
    say(`CPO registered: cpoId ${operator.cpoId}`);
    detail(`admin ${admin.address}, payout ${payout ?? admin.address}`);
    txLine("registerCpo", receipt as unknown as ContractTransactionReceipt);
    return { ...state, cpo: { cpoId: operator.cpoId, admin: admin.address, payout: payout ?? admin.address, tx: receipt.hash } };
  },

  async "meter add"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const power = integerOption("power-w", required(ctx, "power-w", "22000"), (1n << 24n) - 1n);
    const cpo = needCpo(state);
    const d = await attach(ctx, state);
    const privateKey = crypto.getRandomValues(new Uint8Array(32));
    const meter = new Meter({ cpoId: cpo.cpoId, ratedPowerW: power, privateKey });
    const receipt = await operatorOf(d, cpo, await d.signer(1)).addMeter(meter);
    const id = `m${state.meters.length + 1}`;
    say(`Meter ${id} added: ${Number(power) / 1000} kW, leaf ${short(meter.leaf)}`);
    txLine("addMeter", receipt);
    return {
      ...state,
      meters: [...state.meters, {
        id, leaf: meter.leaf, cpoId: cpo.cpoId, ratedPowerW: power,
        privateKey: "0x" + Buffer.from(privateKey).toString("hex"), revoked: false, addedTx: receipt.hash,
      }],
    };
  },

  async "meter revoke"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const ref = required(ctx, "meter", "m1");
    const cpo = needCpo(state);
    const meter = findMeter(state, ref);
    if (meter.revoked) throw new CliError(`meter ${meter.id} is already revoked (tx ${meter.revokedTx})`);
    const d = await attach(ctx, state);
    const receipt = await operatorOf(d, cpo, await d.signer(1)).revokeMeter(meter.leaf);
    say(`Meter ${meter.id} revoked: payments proved against earlier meter roots are now refused`);
    txLine("revokeMeter", receipt);
    return { ...state, meters: state.meters.map((m) => (m.id === meter.id ? { ...m, revoked: true, revokedTx: receipt.hash } : m)) };
  },

  async "tariff publish"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const base = demoTariff(0n);
    const opt = (name: string) => str(ctx, name);
    const list = (name: string, count: number, parse: (s: string) => bigint): bigint[] | undefined => {
      const text = opt(name);
      if (text === undefined) return undefined;
      const parts = text.split(",").map((s) => s.trim());
      if (parts.length !== count) throw new CliError(`--${name}: expected ${count} comma-separated values, got ${parts.length}`);
      return parts.map(parse);
    };
    const prices = list("energy-prices", 4, (s) => amountOption("energy-prices", s, { positive: false }));
    const starts = list("band-starts", 3, (s) => timeOption("band-starts", s));
    const validDays = opt("valid-days") === undefined ? 180n : integerOption("valid-days", opt("valid-days")!, 36_500n);
    const fields: Omit<Tariff, "cpoId"> = {
      ...base,
      flatFee: opt("flat-fee") === undefined ? base.flatFee : amountOption("flat-fee", opt("flat-fee")!, { positive: false }),
      energyPrice: prices ? (prices as unknown as BandTuple) : base.energyPrice,
      bandStart: starts ? [0n, starts[0]!, starts[1]!, starts[2]!] : base.bandStart,
      timePricePerHour: opt("time-price") === undefined ? base.timePricePerHour : amountOption("time-price", opt("time-price")!, { positive: false }),
      maxPrice: opt("max-price") === undefined ? base.maxPrice : amountOption("max-price", opt("max-price")!, { positive: false }),
      tzOffset: opt("tz") === undefined ? base.tzOffset : tzOption(opt("tz")!),
    };
    const cpo = needCpo(state);
    validateTariff({ ...fields, cpoId: cpo.cpoId, validFrom: 0n, validTo: validDays * DAY }); // before any transaction
    const d = await attach(ctx, state);
    const validFrom = (await chainTime(d.provider)) + 60n;
    const tariff: Tariff = { ...fields, cpoId: cpo.cpoId, validFrom, validTo: validFrom + validDays * DAY };
    const hash = await operatorOf(d, cpo, await d.signer(1)).publishTariff(tariff);
    const [event] = await d.registry.queryFilter(d.registry.filters.TariffPublished(cpo.cpoId, hash));
    const receipt = (await d.provider.getTransactionReceipt(event!.transactionHash))!;
    say(`Tariff published: ${short(hash)} (${tzText(tariff.tzOffset)}, valid ${validDays} days)`);
    detail(`flat fee ${formatAmount(tariff.flatFee)}, time ${formatAmount(tariff.timePricePerHour)}/h` +
      (tariff.maxPrice > 0n ? `, capped at ${formatAmount(tariff.maxPrice)}` : ""));
    tariff.bandStart.forEach((start, k) => {
      const end = k < 3 ? tariff.bandStart[k + 1]! : DAY;
      detail(`band ${k}: ${clock(start).slice(0, 5)}-${clock(end).slice(0, 5)}  ${formatAmount(tariff.energyPrice[k]!)}/kWh`);
    });
    txLine("publishTariff", receipt as unknown as ContractTransactionReceipt);
    return { ...state, tariffs: [...state.tariffs, { hash, tariff, tx: receipt.hash }] };
  },

  async "driver new"(ctx, maybe) {
    const state = needState(ctx, maybe);
    if (state.driver && !ctx.values.force) {
      throw new CliError("a driver identity already exists in this state: pass --force to replace it (its notes become unreachable)");
    }
    const identity = DriverIdentity.random();
    say("Driver identity created (Semaphore v4); its secret is stored in plaintext in the state file");
    detail(`identity commitment ${short(identity.commitment)} (never published)`);
    return { ...state, driver: { secret: identity.export(), createdAt: new Date().toISOString() } };
  },

  async "driver deposit"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const amount = amountOption("amount", required(ctx, "amount", "20.00"));
    const identity = needDriver(state);
    const d = await attach(ctx, state);
    const payer = await d.signer(2);
    const funds = (await d.token.getFunction("balanceOf")(payer.address)) as bigint;
    if (funds < amount) throw new CliError(`the payer ${payer.address} holds ${formatAmount(funds)}, less than ${formatAmount(amount)}`);
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const { receipt } = await driver.deposit(amount, payer);
    await driver.sync();
    say(`Deposited ${formatAmount(amount)} from the payer ${payer.address}`);
    txLine("deposit", receipt);
    detail(`driver's private balance: ${formatAmount(driver.balance)} in ${driver.notes.filter((n) => n.note.value > 0n).length} note(s)`);
    return state;
  },

  async "session start"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const from = timeOption("from", required(ctx, "from", "21:30"));
    const record = activeMeter(state, str(ctx, "meter"));
    const tariff = latestTariff(state);
    const d = await attach(ctx, state);
    const now = await chainTime(d.provider);
    const start = nextLocalTime(now > tariff.validFrom ? now : tariff.validFrom, from, tariff.tzOffset);
    if (start > tariff.validTo) throw new CliError("the next such start is after the latest tariff's validity: publish a new tariff");
    const live = startLiveSession(meterOf(record), tariff, start, START_ENERGY);
    const id = `s${state.sessions.length + 1}`;
    say(`Session ${id} started on meter ${record.id}: plug-in ${localDate(start, tariff)} local, register ${kwh(START_ENERGY)}`);
    detail(`session id ${short(live.sessionId)} (tariff fixed at plug-in: ${short(live.tariffHash)})`);
    detail(`next: \`driver lock --session ${id} --cap 15.00\`, \`cpo verify-escrow\`, then \`session simulate --session ${id} --minutes <n> --power-w <W>\``);
    return {
      ...state,
      sessions: [...state.sessions, {
        id, meterId: record.id, status: "started",
        live: { sessionId: live.sessionId, tariff, start: { t: start, e: START_ENERGY }, readings: [] },
      }],
    };
  },

  async "session simulate"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const ref = str(ctx, "session");
    if (ref !== undefined) return continueSession(ctx, state, ref);
    if (ctx.values["keep-open"]) throw new CliError("--keep-open needs --session (a session begun with `session start`)");
    const from = timeOption("from", required(ctx, "from", "16:30"));
    const minutes = integerOption("minutes", required(ctx, "minutes", "70"), 24n * 60n);
    const power = integerOption("power-w", required(ctx, "power-w", "11000"), (1n << 24n) - 1n);
    const record = activeMeter(state, str(ctx, "meter"));
    if (power > record.ratedPowerW) throw new CliError(`--power-w: ${power} W exceeds meter ${record.id}'s rating of ${record.ratedPowerW} W`);
    const tariff = latestTariff(state);
    const d = await attach(ctx, state);
    const now = await chainTime(d.provider);
    const start = nextLocalTime(now > tariff.validFrom ? now : tariff.validFrom, from, tariff.tzOffset);
    if (start > tariff.validTo) throw new CliError("the next such start is after the latest tariff's validity: publish a new tariff");
    const session = simulateSession(meterOf(record), tariff, start, { minutes, powerW: power });
    const bill = computeBill(session.points, tariff, session.ratedPowerW);
    const id = `s${state.sessions.length + 1}`;
    const end = session.points.at(-1)!;
    say(`Session ${id} on meter ${record.id}: ${localClock(start, tariff)}-${localClock(end.t, tariff)} local ` +
      `(${new Date(Number(start) * 1000).toISOString().slice(0, 10)}), ${kwh(end.e - session.points[0]!.e)}, bill ${formatAmount(bill.amount)}`);
    session.points.forEach((p, i) => detail(`chain point ${i + 1}: ${localClock(p.t, tariff)}  register ${kwh(p.e)}`));
    detail(`signed by the meter, session id ${short(session.sessionId)}`);
    return { ...state, sessions: [...state.sessions, { id, meterId: record.id, session, amount: bill.amount, status: "unpaid" }] };
  },

  async "driver pay"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const entry = findSession(state, required(ctx, "session", "s1"));
    if (entry.status === "paid") throw new CliError(`session ${entry.id} is already paid (tx ${entry.payTx})`);
    if (!entry.session) {
      throw new CliError(`session ${entry.id} has not ended: end it with \`session simulate --session ${entry.id} --minutes <n> --power-w <W>\``);
    }
    const identity = needDriver(state);
    const cpo = needCpo(state);
    const d = await attach(ctx, state);
    const operator = operatorOf(d, cpo, await d.signer(1));
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const session = entry.session;
    const receipt = await operator.receipt(session);
    say(`Paying session ${entry.id}: the driver proves the bill from the meter-signed chain`);
    const started = Date.now();
    const payment = await driver.preparePayment(receipt);
    const wall = Date.now() - started;
    const tariff = session.tariff;
    detail(`flat fee ${formatAmount(tariff.flatFee)}`);
    for (const iv of payment.bill.perInterval) {
      detail(`${localClock(iv.tStart, tariff)}-${localClock(iv.tEnd, tariff)} band ${iv.band} @ ${formatAmount(tariff.energyPrice[iv.band]!)}/kWh: ` +
        `${kwh(iv.de)} = ${formatAmount(iv.energyNumerator / D)}, ${iv.dt / 60n} min plugged in = ${formatAmount(iv.timeNumerator / D)}`);
    }
    detail(`total ${formatAmount(payment.pub.amount)}`);
    detail(`proof: witness ${Math.round(payment.witnessMs)} ms + prove ${Math.round(payment.proveMs)} ms (${(wall / 1000).toFixed(1)} s)`);
    await operator.checkPayment(payment, session);
    detail("CPO checked it: amount, tariff, meter root, note root, nullifier, session unpaid, proof");
    const paid = await operator.submitPayment(payment);
    txLine(`CPO submitted it, ${formatAmount(payment.pub.amount)} paid`, paid);
    await driver.sync();
    detail(`driver's private balance: ${formatAmount(driver.balance)}`);
    return { ...state, sessions: state.sessions.map((s) => (s.id === entry.id ? { ...s, status: "paid", payTx: paid.hash } : s)) };
  },

  async "driver lock"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const entry = findSession(state, required(ctx, "session", "s2"));
    const cap = amountOption("cap", required(ctx, "cap", "15.00"));
    const settleText = str(ctx, "settle-minutes");
    const settleMinutes = settleText === undefined ? 120n : integerOption("settle-minutes", settleText, 30n * 24n * 60n);
    if (settleMinutes === 0n) throw new CliError("--settle-minutes: must be more than 0");
    const claimText = str(ctx, "claim-hours");
    const claimHours = claimText === undefined ? 48n : integerOption("claim-hours", claimText, 365n * 24n);
    if (claimHours < MIN_CLAIM_HOURS) throw new CliError(`--claim-hours: the pool requires at least ${MIN_CLAIM_HOURS} hours between the settle and claim deadlines`);
    const feeText = str(ctx, "fee");
    const fee = feeText === undefined ? DEFAULT_RELAYER_FEE : amountOption("fee", feeText, { positive: false });
    if (!entry.live) throw new CliError(`session ${entry.id} was not begun with \`session start\`: lock at plug-in, before charging`);
    if (entry.status !== "started") throw new CliError(`session ${entry.id} has ${entry.status === "paid" ? "been paid" : "ended"}: lock before charging`);
    const open = (state.escrows ?? []).find((e) => e.sessionRef === entry.id && e.status === "open");
    if (open) throw new CliError(`session ${entry.id} already has the open escrow ${open.id}`);
    const identity = needDriver(state);
    const cpo = needCpo(state);
    const { tariff } = entry.live;
    const settleDeadline = entry.live.start.t + settleMinutes * 60n;
    const claimDeadline = settleDeadline + claimHours * HOUR;
    const d = await attach(ctx, state);
    const now = await chainTime(d.provider);
    if (settleDeadline < now + MIN_SETTLE_WINDOW) {
      throw new CliError(`the settle deadline ${localDate(settleDeadline, tariff)} would be less than 15 min after the chain time ` +
        `${localDate(now, tariff)} (local): raise --settle-minutes`);
    }
    const relayer = await d.signer(3);
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const started = Date.now();
    const lock = await driver.prepareLock({ cpoId: cpo.cpoId, sessionId: entry.live.sessionId, cap, settleDeadline, claimDeadline, fee, relayer: relayer.address });
    const wall = Date.now() - started;
    const receipt = await submitLock(d.pool, lock, relayer);
    const id = `e${(state.escrows ?? []).length + 1}`;
    say(`Escrow ${id} locked for session ${entry.id}: cap ${formatAmount(cap)}, via the relayer ${relayer.address} (fee ${formatAmount(fee)})`);
    detail(`escrow id ${short(lock.escrowId)} (the lock's nullifier)`);
    detail(`settle deadline ${localDate(settleDeadline, tariff)}, claim deadline ${localDate(claimDeadline, tariff)} (local)`);
    detail(`proof: witness ${Math.round(lock.witnessMs)} ms + prove ${Math.round(lock.proveMs)} ms (${(wall / 1000).toFixed(1)} s)`);
    txLine("relayer submitted lock", receipt);
    await driver.sync();
    detail(`driver's private balance: ${formatAmount(driver.balance)} (+ ${formatAmount(cap)} in escrow)`);
    const escrow: EscrowRecord = {
      id, escrowId: lock.escrowId, sessionRef: entry.id, cap, fee, settleDeadline, claimDeadline, lockTx: receipt.hash, status: "open",
    };
    return { ...state, escrows: [...(state.escrows ?? []), escrow] };
  },

  async "cpo verify-escrow"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const escrow = findEscrow(state, required(ctx, "escrow", "e1"));
    const minCapText = str(ctx, "min-cap");
    const minCap = minCapText === undefined ? 10_000_000n : amountOption("min-cap", minCapText);
    const cpo = needCpo(state);
    const entry = escrowSession(state, escrow);
    const sessionId = entry.live?.sessionId ?? entry.session!.sessionId;
    const tariff = tariffOfEscrow(state, escrow);
    const d = await attach(ctx, state);
    const operator = operatorOf(d, cpo, await d.signer(1));
    const onChain = await operator.verifyEscrow(escrow.escrowId, { sessionId, minCap, minSecondsToSettle: VERIFY_MIN_SECONDS_TO_SETTLE });
    const now = await chainTime(d.provider);
    say(`Escrow ${escrow.id} OK for session ${entry.id}: switch the charger on`);
    detail(`open, for CPO ${onChain.cpoId} and session ${short(sessionId)} (unpaid)`);
    detail(`cap ${formatAmount(onChain.cap)} >= ${formatAmount(minCap)} required`);
    detail(`settle deadline ${localDate(onChain.settleDeadline, tariff)} local, ${minutesUntil(now, onChain.settleDeadline)} min from chain time ` +
      `(>= ${VERIFY_MIN_SECONDS_TO_SETTLE / 60n} required)`);
    return undefined;
  },

  async "cpo close"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const escrow = findEscrow(state, required(ctx, "escrow", "e1"));
    const tail = ctx.values.tail === true;
    if (escrow.status !== "open") throw new CliError(`escrow ${escrow.id} is already ${escrow.status}`);
    const cpo = needCpo(state);
    const entry = escrowSession(state, escrow);
    let record: Parameters<Operator["close"]>[1];
    let tailFrom: bigint | undefined;
    if (tail) {
      if (entry.session) throw new CliError(`session ${entry.id} ended: close with its session-end record (drop --tail)`);
      if (!entry.live) throw new CliError(`session ${entry.id} has no live readings`);
      const { live, readings } = replay(state, entry);
      const last = lastTail(readings, live.points.length);
      if (!last) {
        throw new CliError(`session ${entry.id} has no live tail after its last chain point: ` +
          `\`session simulate --session ${entry.id} --minutes <n> --power-w <W> --keep-open\``);
      }
      record = live.evidence(last);
      tailFrom = live.points.at(-1)!.t;
    } else {
      if (!entry.session) {
        throw new CliError(`session ${entry.id} has not ended (no session-end record): end it with \`session simulate --session ${entry.id}\`, ` +
          "or close from the last live tail with --tail after the settle deadline");
      }
      record = entry.session;
    }
    const tariff = record.tariff;
    const d = await attach(ctx, state);
    const onChain = await readEscrow(d.pool, escrow.escrowId);
    if (onChain.status !== EscrowStatus.Open) throw new CliError(`escrow ${escrow.id} is no longer open on chain (${EscrowStatus[onChain.status]})`);
    const now = await chainTime(d.provider);
    if (now > escrow.claimDeadline) {
      throw new CliError(`the claim deadline ${localDate(escrow.claimDeadline, tariff)} has passed (chain time ${localDate(now, tariff)}): ` +
        "the escrow can only be refunded to the driver");
    }
    if (tail && now <= escrow.settleDeadline) {
      throw new CliError(`a live tail closes only after the settle deadline ${localDate(escrow.settleDeadline, tariff)} (chain time ` +
        `${localDate(now, tariff)}, local): wait, or on a dev chain \`zkcharge chain advance --minutes ${minutesUntil(now, escrow.settleDeadline) + 1n}\``);
    }
    const operator = operatorOf(d, cpo, await d.signer(1));
    say(`Closing escrow ${escrow.id} (session ${entry.id}) ${tail ? "from the last live tail (the driver disappeared)" : "with the session-end record"}`);
    const started = Date.now();
    const { closing, receipt }: { closing: Closing; receipt: ContractTransactionReceipt } = await operator.close(escrow.escrowId, record);
    const wall = Date.now() - started;
    printBill(closing.bill, tariff, tailFrom);
    const refund = escrow.cap - closing.pub.amount;
    detail(`charged ${formatAmount(closing.pub.amount)} of the ${formatAmount(escrow.cap)} cap, refund ${formatAmount(refund)} to the driver as a note`);
    detail(`proof: prove ${Math.round(closing.proveMs)} ms (${(wall / 1000).toFixed(1)} s, no driver secret needed)`);
    txLine(`CPO submitted close`, receipt);
    detail(`CPO earnings in the pool: ${formatAmount(await operator.earnings())}`);
    const closed: EscrowRecord = { ...escrow, status: "closed", charged: closing.pub.amount, closeMode: tail ? "tail" : "final", closeTx: receipt.hash };
    return {
      ...state,
      escrows: (state.escrows ?? []).map((e) => (e.id === escrow.id ? closed : e)),
      sessions: state.sessions.map((s) => (s.id === entry.id ? { ...s, status: "paid", amount: closing.pub.amount, payTx: receipt.hash } : s)),
    };
  },

  async "driver refund"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const escrow = findEscrow(state, required(ctx, "escrow", "e1"));
    if (escrow.status !== "open") throw new CliError(`escrow ${escrow.id} is already ${escrow.status}`);
    const identity = needDriver(state);
    const tariff = tariffOfEscrow(state, escrow);
    const d = await attach(ctx, state);
    const now = await chainTime(d.provider);
    if (now <= escrow.claimDeadline) {
      throw new CliError(`escrow ${escrow.id} refunds only after its claim deadline ${localDate(escrow.claimDeadline, tariff)} (chain time ` +
        `${localDate(now, tariff)}, local): the CPO may still close it; on a dev chain \`zkcharge chain advance --minutes ` +
        `${minutesUntil(now, escrow.claimDeadline) + 1n}\``);
    }
    const relayer = await d.signer(3);
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const receipt = await driver.refund(escrow.escrowId, relayer);
    say(`Escrow ${escrow.id} refunded: ${formatAmount(escrow.cap)} back to the driver as a note (submitted by the relayer ${relayer.address})`);
    txLine("refund", receipt);
    await driver.sync();
    detail(`driver's private balance: ${formatAmount(driver.balance)}`);
    const refunded: EscrowRecord = { ...escrow, status: "refunded", refundTx: receipt.hash };
    return { ...state, escrows: (state.escrows ?? []).map((e) => (e.id === escrow.id ? refunded : e)) };
  },

  async "chain advance"(ctx, state) {
    const minutes = integerOption("minutes", required(ctx, "minutes", "130"), 365n * 24n * 60n);
    if (minutes === 0n) throw new CliError("--minutes: must be more than 0");
    const chain = await connect(ctx.rpc);
    // Raw calls: the provider caches identical requests briefly, and the clock moves between these two.
    const now = async () => BigInt(((await chain.provider.send("eth_getBlockByNumber", ["latest", false])) as { timestamp: string }).timestamp);
    try {
      const before = await now();
      try {
        await chain.provider.send("evm_increaseTime", [Number(minutes * 60n)]);
        await chain.provider.send("evm_mine", []);
      } catch (error) {
        throw new CliError(`${ctx.rpc} refused evm_increaseTime / evm_mine (${(error as Error).message.split("\n")[0]}): dev chains only`);
      }
      const after = await now();
      const tariff = state?.tariffs.at(-1)?.tariff;
      const show = (t: bigint) => (tariff ? `${localDate(t, tariff)} local` : new Date(Number(t) * 1000).toISOString());
      say(`Chain time advanced by ${minutes} min with evm_increaseTime + evm_mine (DEV CHAINS ONLY): ${show(before)} -> ${show(after)}`);
    } finally {
      chain.provider.destroy();
    }
    return undefined;
  },

  async "cpo withdraw"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const cpo = needCpo(state);
    const d = await attach(ctx, state);
    const operator = operatorOf(d, cpo, await d.signer(1));
    const earnings = await operator.earnings();
    if (earnings === 0n) throw new CliError(`CPO ${cpo.cpoId} has no earnings to withdraw`);
    const receipt = await operator.withdraw();
    say(`CPO withdrew ${formatAmount(earnings)} to ${cpo.payout}`);
    txLine("withdraw", receipt);
    detail(`payout balance: ${formatAmount((await d.token.getFunction("balanceOf")(cpo.payout)) as bigint)}`);
    return state;
  },

  async "driver balance"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const identity = needDriver(state);
    const d = await attach(ctx, state);
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const started = Date.now();
    const notes = (await driver.sync()).filter((n) => n.note.value > 0n);
    say(`Driver balance: ${formatAmount(driver.balance)} in ${notes.length} note(s) (rebuilt from events in ${Date.now() - started} ms)`);
    for (const n of notes) detail(`note #${n.leafIndex}: ${formatAmount(n.note.value)}`);
    printDriverEscrows(state, driver);
    return undefined;
  },

  async "driver withdraw"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const to = addressOption("to", required(ctx, "to", "0x..."));
    const amountText = str(ctx, "amount");
    const amount = amountText === undefined ? undefined : amountOption("amount", amountText);
    const feeText = str(ctx, "fee");
    const fee = feeText === undefined ? DEFAULT_RELAYER_FEE : amountOption("fee", feeText, { positive: false });
    const identity = needDriver(state);
    const d = await attach(ctx, state);
    const relayer = await d.signer(3);
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const started = Date.now();
    const withdrawal = await driver.prepareWithdraw({ to, amount, relayer: relayer.address, fee });
    const wall = Date.now() - started;
    const out = -withdrawal.ext.extAmount;
    say(`Withdrawing ${formatAmount(out)} to ${to} via the relayer ${relayer.address} (fee ${formatAmount(fee)})`);
    detail(`proof: witness ${Math.round(withdrawal.witnessMs)} ms + prove ${Math.round(withdrawal.proveMs)} ms (${(wall / 1000).toFixed(1)} s)`);
    const receipt = await submitTransaction(d.pool, withdrawal, relayer);
    txLine("relayer submitted transact", receipt);
    await driver.sync();
    detail(`${to} now holds ${formatAmount((await d.token.getFunction("balanceOf")(to)) as bigint)}; driver's private balance ${formatAmount(driver.balance)}`);
    return state;
  },

  async status(ctx, state) {
    if (!state) {
      say(`No deployment in ${ctx.statePath}: run \`zkcharge deploy\``);
      return undefined;
    }
    const d = await attach(ctx, state);
    const block = await d.provider.getBlock("latest");
    say(`zkcharge on ${ctx.rpc}: chain ${state.chainId}, block ${block!.number}, state ${ctx.statePath}`);
    detail(`Pool ${state.addresses.pool}, Registry ${state.addresses.registry}, token ${state.addresses.token}`);
    detail(`pool holds ${formatAmount((await d.token.getFunction("balanceOf")(state.addresses.pool)) as bigint)}`);
    if (state.cpo) {
      const earnings = await d.pool.cpoBalance(state.cpo.cpoId);
      say(`CPO ${state.cpo.cpoId}: admin ${state.cpo.admin}, earnings ${formatAmount(earnings)}, ` +
        `payout ${state.cpo.payout} holds ${formatAmount((await d.token.getFunction("balanceOf")(state.cpo.payout)) as bigint)}`);
    } else say("CPO: not registered");
    for (const m of state.meters) detail(`meter ${m.id}: ${Number(m.ratedPowerW) / 1000} kW, ${m.revoked ? "revoked" : "active"}, leaf ${short(m.leaf)}`);
    for (const t of state.tariffs) detail(`tariff ${short(t.hash)}: ${tzText(t.tariff.tzOffset)}, ${t.tariff.energyPrice.map((p) => formatAmount(p, "")).join("/")} EUR/kWh`);
    if (state.driver) {
      const driver = new Driver(DriverIdentity.fromSecret(state.driver.secret), d.pool.connect(d.provider));
      await driver.sync();
      const open = driver.escrows.filter((e) => e.status === EscrowStatus.Open);
      say(`Driver: ${formatAmount(driver.balance)} in ${driver.notes.filter((n) => n.note.value > 0n).length} note(s)` +
        (driver.escrows.length ? `, ${driver.escrows.length} escrow(s) in events (${open.length} open, ` +
          `${formatAmount(open.reduce((sum, e) => sum + e.cap, 0n))} locked)` : ""));
    } else say("Driver: none");
    for (const s of state.sessions) {
      if (s.session) {
        const t = s.session.tariff;
        const pts = s.session.points;
        detail(`session ${s.id}: ${localClock(pts[0]!.t, t)}-${localClock(pts.at(-1)!.t, t)}, ${kwh(pts.at(-1)!.e - pts[0]!.e)}, ` +
          `${formatAmount(s.amount ?? 0n)}, ${s.status}${s.payTx ? ` (tx ${short(s.payTx)})` : ""}`);
      } else if (s.live) {
        const t = s.live.tariff;
        const last = s.live.readings.at(-1) ?? s.live.start;
        const how = s.status === "paid" ? `paid ${formatAmount(s.amount ?? 0n)} from a live tail` : "not ended";
        detail(`session ${s.id}: started ${localClock(s.live.start.t, t)}, last reading ${localClock(last.t, t)}, ` +
          `${kwh(last.e - s.live.start.e)}, ${how}${s.payTx ? ` (tx ${short(s.payTx)})` : ""}`);
      }
    }
    if (state.escrows?.length) {
      const now = await chainTime(d.provider);
      for (const e of state.escrows) {
        const tariff = tariffOfEscrow(state, e);
        const chainStatus = EscrowStatus[(await readEscrow(d.pool, e.escrowId)).status];
        detail(`escrow ${e.id} (session ${e.sessionRef}): ${describeEscrow(e, tariff)} [on chain: ${chainStatus}]`);
      }
      const tariff = state.tariffs.at(-1)?.tariff;
      if (tariff) detail(`chain time ${localDate(now, tariff)} local`);
    }
    return undefined;
  },
};

/** Runs a command: load state, run, save the new state atomically (only on success). */
export async function run(command: CommandName, ctx: RunContext): Promise<void> {
  const state = loadState(ctx.statePath);
  const next = await handlers[command](ctx, state);
  if (next !== undefined && next !== state) saveState(ctx.statePath, next);
}
