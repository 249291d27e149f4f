/**
 * The zkcharge CLI's commands. Each one validates its options and the state first (no network, no
 * writes), then talks to the chain, then returns the new state, which the caller saves atomically.
 * A command that throws leaves the state file as it was.
 */
import { Contract, JsonRpcProvider, Network, getAddress, isAddress, type ContractTransactionReceipt, type JsonRpcSigner } from "ethers";
import { deployZkcharge } from "../sdk/deploy.ts";
import { Driver, submitTransaction } from "../sdk/driver.ts";
import { DriverIdentity } from "../sdk/identity.ts";
import { Meter } from "../sdk/meter.ts";
import { formatAmount, parseAmount } from "../sdk/money.ts";
import { Operator } from "../sdk/operator.ts";
import { clock, computeBill, timeOfDay, validateTariff, type BandTuple, type Tariff } from "../sdk/tariff.ts";
import { Pool__factory, Registry__factory, type Pool, type Registry } from "../types/ethers-contracts/index.js";
import { DAY, HOUR, demoTariff, nextLocalTime, simulateSession } from "../scripts/lib/localNetwork.ts";
import { STATE_VERSION, loadState, saveState, type CliState, type SessionRecordEntry } from "./state.ts";

export const DEFAULT_RPC = "http://127.0.0.1:8545";
export const DEFAULT_STATE = ".zkcharge/state.json";
const PAYER_FUNDS = 1_000_000_000n; // 1000 tEUR minted to the payer on deploy
const DEFAULT_RELAYER_FEE = 20_000n;
const D = 3_600_000n;

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
  "session simulate": ["from", "minutes", "power-w", "meter"],
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
  const session = state.sessions.find((s) => s.id === ref || s.session.sessionId.toString() === ref);
  if (!session) {
    throw new CliError(`unknown session "${ref}" (known: ${state.sessions.map((s) => s.id).join(", ") || "none"}; ` +
      "create one with `zkcharge session simulate`)");
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

// ---------------------------------------------------------------------------------------------- commands

type Handler = (ctx: RunContext, state: CliState | undefined) => Promise<CliState | undefined>;

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

  async "session simulate"(ctx, maybe) {
    const state = needState(ctx, maybe);
    const from = timeOption("from", required(ctx, "from", "16:30"));
    const minutes = integerOption("minutes", required(ctx, "minutes", "70"), 24n * 60n);
    const power = integerOption("power-w", required(ctx, "power-w", "11000"), (1n << 24n) - 1n);
    const record = findMeter(state, str(ctx, "meter"));
    if (record.revoked) throw new CliError(`meter ${record.id} is revoked: add a new one with \`zkcharge meter add\``);
    if (power > record.ratedPowerW) throw new CliError(`--power-w: ${power} W exceeds meter ${record.id}'s rating of ${record.ratedPowerW} W`);
    const latest = state.tariffs.at(-1);
    if (!latest) throw new CliError("no tariff published yet: run `zkcharge tariff publish` first");
    const { tariff } = latest;
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
    const identity = needDriver(state);
    const cpo = needCpo(state);
    const d = await attach(ctx, state);
    const operator = operatorOf(d, cpo, await d.signer(1));
    const driver = new Driver(identity, d.pool.connect(d.provider));
    const { session } = entry;
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
      say(`Driver: ${formatAmount(driver.balance)} in ${driver.notes.filter((n) => n.note.value > 0n).length} note(s)`);
    } else say("Driver: none");
    for (const s of state.sessions) {
      const t = s.session.tariff;
      const pts = s.session.points;
      detail(`session ${s.id}: ${localClock(pts[0]!.t, t)}-${localClock(pts.at(-1)!.t, t)}, ${kwh(pts.at(-1)!.e - pts[0]!.e)}, ` +
        `${formatAmount(s.amount)}, ${s.status}${s.payTx ? ` (tx ${short(s.payTx)})` : ""}`);
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
