/**
 * Look-ups in the state file: what a command needs to exist (deployment, CPO, driver, tariff) and the records
 * named by handles (`m1`, `s2`, `e1`, or their on-chain ids), each failing with what to run instead. Also the
 * SDK objects a record stands for (the meter, the operator, a started session rebuilt from its log).
 */
import {
  Driver,
  DriverIdentity,
  Meter,
  Operator,
  restoreLiveSession,
  type RestoredLiveSession,
  type Tariff,
} from "../sdk/index.ts";
import type { RunContext } from "./context.ts";
import { CliError } from "./errors.ts";
import type { Deployed } from "./rpc.ts";
import type { RoleSigner } from "./signers.ts";
import type { CliState, EscrowRecord, MeterRecord, SessionRecordEntry } from "./state.ts";

type Cpo = NonNullable<CliState["cpo"]>;

export function needState(ctx: RunContext, state: CliState | undefined): CliState {
  if (!state) throw new CliError(`no deployment in ${ctx.statePath}: run \`zkcharge deploy\` first (or pass --state)`);
  return state;
}

export function needCpo(state: CliState): Cpo {
  if (!state.cpo) throw new CliError("no CPO registered yet: run `zkcharge cpo register` first");
  return state.cpo;
}

export function needDriver(state: CliState): DriverIdentity {
  if (!state.driver) throw new CliError("no driver identity yet: run `zkcharge driver new` first");
  return DriverIdentity.fromSecret(state.driver.secret);
}

/** The driver's wallet on this state's pool: its events are read from the deployment block on. */
export function walletOf(state: CliState, identity: DriverIdentity, d: Deployed): Driver {
  return new Driver(identity, d.pool.connect(d.provider), {}, { startBlock: state.deploymentBlock ?? 0 });
}

export function latestTariff(state: CliState): Tariff {
  const latest = state.tariffs.at(-1);
  if (!latest) throw new CliError("no tariff published yet: run `zkcharge tariff publish` first");
  return latest.tariff;
}

/** The meter `ref` (id like m1, or its leaf), or without `ref` the last active one. */
export function findMeter(state: CliState, ref: string | undefined): MeterRecord {
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

/** {@link findMeter}, refusing a revoked meter. */
export function activeMeter(state: CliState, ref: string | undefined): MeterRecord {
  const record = findMeter(state, ref);
  if (record.revoked) throw new CliError(`meter ${record.id} is revoked: add a new one with \`zkcharge meter add\``);
  return record;
}

/** The session `ref` (id like s1, or its session id). */
export function findSession(state: CliState, ref: string): SessionRecordEntry {
  const session = state.sessions.find(
    (s) => s.id === ref || (s.session?.sessionId ?? s.live?.sessionId)?.toString() === ref,
  );
  if (!session) {
    throw new CliError(
      `unknown session "${ref}" (known: ${state.sessions.map((s) => s.id).join(", ") || "none"}; ` +
        "create one with `zkcharge session simulate` or `zkcharge session start`)",
    );
  }
  return session;
}

/** The escrow `ref` (id like e1, or its escrow id). */
export function findEscrow(state: CliState, ref: string): EscrowRecord {
  const escrows = state.escrows ?? [];
  const escrow = escrows.find((e) => e.id === ref || e.escrowId.toString() === ref);
  if (!escrow) {
    throw new CliError(
      `unknown escrow "${ref}" (known: ${escrows.map((e) => e.id).join(", ") || "none"}; ` +
        "lock one with `zkcharge driver lock --session <id> --cap <EUR>`)",
    );
  }
  return escrow;
}

export function escrowSession(state: CliState, escrow: EscrowRecord): SessionRecordEntry {
  return findSession(state, escrow.sessionRef);
}

/** The tariff an escrow's session runs under (for showing its deadlines in local time). */
export function tariffOfEscrow(state: CliState, escrow: EscrowRecord): Tariff {
  const entry = escrowSession(state, escrow);
  return entry.live?.tariff ?? entry.session?.tariff ?? latestTariff(state);
}

export function meterOf(record: MeterRecord): Meter {
  return new Meter({
    cpoId: record.cpoId,
    ratedPowerW: record.ratedPowerW,
    privateKey: Buffer.from(record.privateKey.slice(2), "hex"),
  });
}

export function operatorOf(d: Deployed, cpo: Cpo, signer: RoleSigner): Operator {
  return new Operator({ cpoId: cpo.cpoId, registry: d.registry, pool: d.pool, signer });
}

/** A session begun with `session start`, rebuilt on its meter from the log in the state file. */
export function restoreSession(state: CliState, entry: SessionRecordEntry): RestoredLiveSession {
  if (!entry.live) throw new CliError(`session ${entry.id} was not begun with \`session start\``);
  return restoreLiveSession(meterOf(findMeter(state, entry.meterId)), entry.live);
}
