/**
 * Charging sessions the meter signs (simulated): `session simulate` (a whole session, or charging a started one
 * on), `session start` (plug-in of an escrowed session) and `session from-ocmf` (a session the station's gateway
 * signs from a calibrated meter's OCMF records). A started session lives in the state file as its
 * reading log and is rebuilt on the meter for every command (`restoreLiveSession` in the SDK).
 */
import { Option, type Command } from "commander";
import {
  OcmfRefusedError,
  appendReadings,
  billSoFar,
  computeBill,
  formatAmount,
  sessionId as makeSessionId,
  signOcmfSession,
  simulateCharging,
  startLiveSessionLog,
  type Tariff,
} from "../../sdk/index.ts";
import { freshNonces, nextLocalTime, simulateSession, startLiveSession } from "../../dev/localNetwork.ts";
import { defineCommand, runs, type RunContext } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, kwh, localClock, localDate, printChainPoints, say, short } from "../format.ts";
import { activeMeter, findMeter, findSession, latestTariff, meterOf, needState, restoreSession } from "../lookup.ts";
import { clockArg, fieldArg, option, required, wholeArg } from "../options.ts";
import { readKeys, readText } from "./ocmf.ts";
import { attach, chainTime } from "../rpc.ts";
import type { CliState, MeterRecord, SessionRecordEntry } from "../state.ts";

const HEADING = "Meter sessions (simulated; the meter key is in the state file):";
const START_ENERGY = 5_000_000n; // Wh on the register at plug-in (simulated meters)
const MAX_POWER_W = (1n << 24n) - 1n;
const STEP_SECONDS = 300n; // a reading every 5 minutes

interface SimulateOptions {
  from?: bigint;
  minutes: bigint;
  powerW: bigint;
  meter?: string;
  session?: string;
  keepOpen?: boolean;
}

/** The next local `from` (seconds after midnight) at or after the tariff's start, within its validity. */
async function nextStart(ctx: RunContext, state: CliState, tariff: Tariff, from: bigint) {
  const d = await attach(ctx, state);
  const now = await chainTime(d.provider);
  const start = nextLocalTime(now > tariff.validFrom ? now : tariff.validFrom, from, tariff.tzOffset);
  if (start > tariff.validTo)
    throw new CliError("the next such start is after the latest tariff's validity: publish a new tariff");
  return start;
}

function checkPower(powerW: bigint, record: MeterRecord): void {
  if (powerW > record.ratedPowerW)
    throw new CliError(`--power-w: ${powerW} W exceeds meter ${record.id}'s rating of ${record.ratedPowerW} W`);
}

/** `session simulate --session sN`: charges a started session on, then ends it (or, with --keep-open, leaves only live tails). */
function continueSession(state: CliState, o: SimulateOptions & { session: string }): CliState {
  if (o.from !== undefined)
    throw new CliError("--from does not apply with --session: the session started at plug-in (`session start --from`)");
  const entry = findSession(state, o.session);
  if (!entry.live) throw new CliError(`session ${entry.id} was not begun with \`session start\`: nothing to continue`);
  if (entry.status !== "started")
    throw new CliError(
      `session ${entry.id} has ${entry.status === "paid" ? "been paid" : "ended"}: nothing to continue`,
    );
  const record = findMeter(state, entry.meterId);
  if (record.revoked) throw new CliError(`meter ${record.id} was revoked since the session started`);
  checkPower(o.powerW, record);
  const log = entry.live;
  const { tariff } = log;
  const { session: live, liveTails } = restoreSession(state, entry);
  const added = simulateCharging(live, {
    to: live.lastReading.t + o.minutes * 60n,
    powerW: o.powerW,
    stepSeconds: STEP_SECONDS,
  });
  const next: SessionRecordEntry = { ...entry, live: appendReadings(log, added) };
  const last = live.lastReading;
  const energy = kwh(last.e - log.start.e);
  const span = `${localClock(log.start.t, tariff)}-${localClock(last.t, tariff)} local`;
  const replace = (s: SessionRecordEntry) => ({
    ...state,
    sessions: state.sessions.map((x) => (x.id === entry.id ? s : x)),
  });
  if (o.keepOpen) {
    const lastAdded = added.at(-1);
    const tail = lastAdded?.kind === "live" ? lastAdded : undefined;
    const tails = liveTails + added.filter((r) => r.kind === "live").length;
    say(
      `Session ${entry.id} charging, not ended: ${span}, ${energy} so far, bill so far ${formatAmount(billSoFar(live, tail).amount)}`,
    );
    printChainPoints(live.points, tariff);
    detail(
      tail
        ? `${tails} live tail(s) signed, the last at ${localClock(tail.t, tariff)} (register ${kwh(tail.e)})`
        : "the last reading is a chain point (a tariff boundary): no live tail after it yet",
    );
    return replace(next);
  }
  const session = live.end(last.t, last.e);
  const bill = computeBill(session.points, tariff, session.ratedPowerW);
  say(`Session ${entry.id} ended: ${span}, ${energy}, bill ${formatAmount(bill.amount)}`);
  printChainPoints(session.points, tariff);
  detail(`the meter signed the session end, session id ${short(session.sessionId)}`);
  return replace({ ...next, session, amount: bill.amount, status: "unpaid" });
}

interface FromOcmfOptions {
  /** Required (checked before the handler runs). */
  keys: string;
  session?: bigint;
  meter?: string;
  lenientSignature?: boolean;
}

/** `session from-ocmf <file>`: the gateway verifies the records and signs their transaction as a session. */
function fromOcmf(state: CliState, path: string, o: FromOcmfOptions): CliState {
  const record = activeMeter(state, o.meter);
  const tariff = latestTariff(state);
  const nonces = freshNonces();
  const sessionId = o.session ?? makeSessionId(nonces.stationNonce, nonces.driverNonce);
  const taken = state.sessions.find((s) => (s.session?.sessionId ?? s.live?.sessionId) === sessionId);
  if (taken) throw new CliError(`session id ${short(sessionId)} is already session ${taken.id}`);
  let signed;
  try {
    signed = signOcmfSession({
      records: readText(path, "file"),
      keys: readKeys(o.keys),
      meter: meterOf(record),
      sessionId,
      tariff,
      verify: { lenientSignature: o.lenientSignature ?? false },
    });
  } catch (error) {
    if (!(error instanceof OcmfRefusedError)) throw error;
    throw new CliError(`the gateway refuses to sign ${path}:\n  ${error.reasons.join("\n  ")}`);
  }
  const { session } = signed;
  const bill = computeBill(session.points, tariff, session.ratedPowerW);
  const id = `s${state.sessions.length + 1}`;
  const [start, end] = [session.points[0]!, session.points.at(-1)!];
  const signer = signed.report.transactions[0]!.signer;
  say(
    `Session ${id} on meter ${record.id} from ${signed.records.length} OCMF record(s) of ${signer}, all valid: ` +
      `${localClock(start.t, tariff)}-${localClock(end.t, tariff)} local (${new Date(Number(start.t) * 1000).toISOString().slice(0, 10)}), ` +
      `${kwh(end.e - start.e)}, bill ${formatAmount(bill.amount)}`,
  );
  signed.points.forEach((p, i) =>
    detail(
      `chain point ${i + 1}: ${localClock(p.t, tariff)}  register ${kwh(p.e)}  from ${p.source} reading ${p.reading} (TX ${p.tx})`,
    ),
  );
  detail(
    `OCMF digest 0x${signed.ocmfDigest.toString(16).padStart(64, "0")} of the records used, signed into the session-end record`,
  );
  detail(`signed by the gateway key (meter ${record.id}), session id ${short(session.sessionId)}`);
  return {
    ...state,
    sessions: [...state.sessions, { id, meterId: record.id, session, amount: bill.amount, status: "unpaid" }],
  };
}

export function registerSessionCommands(root: Command): void {
  runs<SimulateOptions>(
    defineCommand(
      root,
      "session simulate",
      "a meter-signed session starting at the next local --from under the latest tariff (a chain point at every band " +
        "boundary); with --session: charge a started session on, then the meter signs the session end",
    )
      .helpGroup(HEADING)
      .addOption(option("--from <HH:MM>", "local start time (not with --session)", clockArg))
      .addOption(required(option("--minutes <n>", "how long to charge", wholeArg(24n * 60n)), "70"))
      .addOption(
        required(
          option("--power-w <W>", "charging power in W (at most the meter's rating)", wholeArg(MAX_POWER_W)),
          "11000",
        ),
      )
      .addOption(
        new Option(
          "--meter <id>",
          "the meter (id like m1; default: the last active one; with --session: the one it started on)",
        ),
      )
      .addOption(new Option("--session <id>", "a session begun with `session start`, to charge on"))
      .addOption(
        new Option(
          "--keep-open",
          "with --session: no session end (the driver disappeared), the meter only signs live tails",
        ),
      ),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      if (o.session !== undefined) return continueSession(state, { ...o, session: o.session });
      if (o.keepOpen) throw new CliError("--keep-open needs --session (a session begun with `session start`)");
      if (o.from === undefined) throw new CliError("missing --from (e.g. --from 16:30)");
      const record = activeMeter(state, o.meter);
      checkPower(o.powerW, record);
      const tariff = latestTariff(state);
      const start = await nextStart(ctx, state, tariff, o.from);
      const session = simulateSession(meterOf(record), tariff, start, { minutes: o.minutes, powerW: o.powerW });
      const bill = computeBill(session.points, tariff, session.ratedPowerW);
      const id = `s${state.sessions.length + 1}`;
      const end = session.points.at(-1)!;
      say(
        `Session ${id} on meter ${record.id}: ${localClock(start, tariff)}-${localClock(end.t, tariff)} local ` +
          `(${new Date(Number(start) * 1000).toISOString().slice(0, 10)}), ${kwh(end.e - session.points[0]!.e)}, bill ${formatAmount(bill.amount)}`,
      );
      printChainPoints(session.points, tariff);
      detail(`signed by the meter, session id ${short(session.sessionId)}`);
      return {
        ...state,
        sessions: [...state.sessions, { id, meterId: record.id, session, amount: bill.amount, status: "unpaid" }],
      };
    },
  );

  runs<{ from: bigint; meter?: string }>(
    defineCommand(
      root,
      "session start",
      "plug-in: start a session at the next local --from under the latest tariff (a fresh session id, no readings yet)",
    )
      .helpGroup(HEADING)
      .addOption(required(option("--from <HH:MM>", "local plug-in time", clockArg), "21:30"))
      .addOption(new Option("--meter <id>", "the meter (id like m1; default: the last active one)")),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const record = activeMeter(state, o.meter);
      const tariff = latestTariff(state);
      const start = await nextStart(ctx, state, tariff, o.from);
      const nonces = freshNonces(); // the station's and the driver's; the driver shows them when it locks an escrow
      const live = startLiveSession(meterOf(record), tariff, start, START_ENERGY, nonces);
      const id = `s${state.sessions.length + 1}`;
      say(
        `Session ${id} started on meter ${record.id}: plug-in ${localDate(start, tariff)} local, register ${kwh(START_ENERGY)}`,
      );
      detail(`session id ${short(live.sessionId)} (tariff fixed at plug-in: ${short(live.tariffHash)})`);
      detail(
        `next: \`driver lock --session ${id} --cap 20.00\`, \`cpo verify-escrow\`, then \`session simulate --session ${id} --minutes <n> --power-w <W>\``,
      );
      return {
        ...state,
        sessions: [
          ...state.sessions,
          { id, meterId: record.id, status: "started", live: startLiveSessionLog(live), nonces },
        ],
      };
    },
  );

  runs<FromOcmfOptions>(
    defineCommand(
      root,
      "session from-ocmf",
      "the station's gateway: verify a calibrated meter's OCMF records and sign their one transaction as a session " +
        "(chain points only from readings at the latest tariff's boundaries, never interpolated)",
    )
      .helpGroup(HEADING)
      .argument(
        "<file>",
        "the records (one per line, a JSON array, or OCPP signedMeterValue JSON); - reads standard input",
      )
      .addOption(
        required(
          new Option("--keys <file>", 'key registry: JSON {"<MS, GS, GS/MS or CI>": "<public key>"}, as `ocmf verify`'),
          "keys.json",
        ),
      )
      .addOption(
        option(
          "--session <id>",
          "the session id agreed at plug-in (default: fresh nonces, as `session simulate`)",
          fieldArg,
        ),
      )
      .addOption(new Option("--meter <id>", "the gateway's meter key (id like m1; default: the last active one)"))
      .addOption(
        new Option(
          "--lenient-signature",
          "also accept a bare r||s signature and DER integers with extra leading zeros",
        ),
      ),
    async (ctx, maybe, o, args) => fromOcmf(needState(ctx, maybe), args[0]!, o),
  );
}
