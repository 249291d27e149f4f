/**
 * The zkcharge CLI's local state: one JSON file (bigints written as `"123n"` strings), replaced
 * atomically on every save (temp file in the same directory, fsync, rename, fsync of the directory),
 * so a crash or a kill leaves either the old or the new file, never a half-written one. On load every field is
 * checked against the zod schema below (the types are derived from it), and a bad one is named:
 * `state file .zkcharge/state.json: sessions[2].session.points[0].t: expected a decimal integer string like "123n"`.
 *
 * The file holds secrets in plaintext (the driver's identity, the meters' private keys): it is for dev chains only,
 * says so in its first field (`notice`), and {@link plaintextSecretsProblem} refuses to write such secrets for any
 * other chain (their keys belong in the encrypted key stores: `zkcharge key`, docs/keys.md).
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import {
  writeFileAtomic,
  type AtomicWriteHooks,
  type LiveSessionLog,
  type Point,
  type SignedSession,
  type Tariff,
} from "../sdk/index.ts";

export { writeFileAtomic, type AtomicWriteHooks };

export const STATE_VERSION = 1;

// ---------------------------------------------------------------------------------------------- schema

const BIGINT_TEXT = /^-?\d+n$/;

/** A bigint, written `"<digits>n"`. */
const bigint = z.unknown().transform((value, ctx) => {
  if (typeof value === "string" && BIGINT_TEXT.test(value)) return BigInt(value.slice(0, -1));
  ctx.addIssue({
    code: "custom",
    message:
      value === undefined ? "missing" : `expected a decimal integer string like "123n", got ${JSON.stringify(value)}`,
  });
  return z.NEVER;
});
const text = z.string();
const pair = z.tuple([bigint, bigint]);
const bands = z.tuple([bigint, bigint, bigint, bigint]);

// The SDK's types, checked against these schemas by the annotations.
const point: z.ZodType<Point, z.ZodTypeDef, unknown> = z.object({ t: bigint, e: bigint }).strict();
const tariff: z.ZodType<Tariff, z.ZodTypeDef, unknown> = z
  .object({
    cpoId: bigint,
    flatFee: bigint,
    energyPrice: bands,
    bandStart: bands,
    timePricePerHour: bands,
    parkingPricePerHour: bands,
    minPrice: bigint,
    maxPrice: bigint,
    tzOffset: bigint,
    validFrom: bigint,
    validTo: bigint,
    stepSize: z.tuple([bigint, bigint, bigint]),
    durationLimit: z
      .object({
        seconds: bigint,
        energyPrice: bigint.optional(),
        timePricePerHour: bigint.optional(),
        parkingPricePerHour: bigint.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
const signedSession: z.ZodType<SignedSession, z.ZodTypeDef, unknown> = z
  .object({
    sessionId: bigint,
    cpoId: bigint,
    meterLeaf: bigint,
    ratedPowerW: bigint,
    tariff,
    tariffHash: bigint,
    points: z.array(point),
    n: z.number().int().nonnegative(),
    signature: z.object({ R8: pair, S: bigint }).strict(),
    meterPublicKey: pair,
    // State files written before the OCMF binding hold sessions from the meter's own chain: digest 0.
    ocmfDigest: bigint.default(0n),
    final: bigint,
  })
  .strict();
/**
 * A session begun with `session start`, kept as what rebuilds the meter session (`restoreLiveSession`): the
 * session id, the tariff fixed at plug-in, the start point and every reading after it.
 */
const liveSession: z.ZodType<LiveSessionLog, z.ZodTypeDef, unknown> = z
  .object({
    sessionId: bigint,
    tariff,
    start: point,
    readings: z.array(point),
  })
  .strict();

const meterRecord = z
  .object({
    /** Short handle, `m1`, `m2`, ... */
    id: text,
    leaf: bigint,
    cpoId: bigint,
    ratedPowerW: bigint,
    /** EdDSA-Poseidon private key, 0x-hex (plaintext). */
    privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 32-byte 0x-hex private key"),
    revoked: z.boolean(),
    addedTx: text,
    revokedTx: text.optional(),
  })
  .strict();

const tariffRecord = z.object({ hash: bigint, tariff, tx: text }).strict();

const sessionRecord = z
  .object({
    /** Short handle, `s1`, `s2`, ... */
    id: text,
    meterId: text,
    /** The meter-signed session, once it ended (absent while a started session is open). */
    session: signedSession.optional(),
    /** The bill: of the ended session's readings, or what an escrow close charged. */
    amount: bigint.optional(),
    /** started: plugged in, not ended (maybe live tails only); unpaid: ended; paid: by `driver pay` or an escrow close. */
    status: z.enum(["started", "unpaid", "paid"]),
    /** The pay or close transaction. */
    payTx: text.optional(),
    /** Present for sessions begun with `session start`. */
    live: liveSession.optional(),
    /** The nonces that make the session id (sessions begun with `session start`): the lock proof shows them. */
    nonces: z.object({ stationNonce: bigint, driverNonce: bigint }).strict().optional(),
  })
  .strict();

const escrowRecord = z
  .object({
    /** Short handle, `e1`, `e2`, ... */
    id: text,
    /** The escrow id on chain (the lock's nullifier). */
    escrowId: bigint,
    /** The session handle (`s2`) it pre-authorises. */
    sessionRef: text,
    cap: bigint,
    /** Relayer fee paid on top of the cap. */
    fee: bigint,
    settleDeadline: bigint,
    claimDeadline: bigint,
    lockTx: text,
    status: z.enum(["open", "closed", "refunded"]),
    /** What the close charged (closed escrows). */
    charged: bigint.optional(),
    /** Closed with the session-end record, or from the last live tail. */
    closeMode: z.enum(["final", "tail"]).optional(),
    closeTx: text.optional(),
    refundTx: text.optional(),
  })
  .strict();

const cliState = z
  .object({
    version: z.literal(STATE_VERSION),
    chainId: bigint,
    deployedAt: text,
    /** Where the pool's events start (from the deployment record; absent: block 0, as `zkcharge deploy` states). */
    deploymentBlock: z.number().int().nonnegative().optional(),
    addresses: z
      .object({ token: text, registry: text, pool: text, payVerifier: text, transactVerifier: text })
      .strict(),
    cpo: z.object({ cpoId: bigint, admin: text, payout: text, tx: text }).strict().optional(),
    meters: z.array(meterRecord),
    tariffs: z.array(tariffRecord),
    /** The driver's Semaphore identity export (plaintext secret). */
    driver: z.object({ secret: text, createdAt: text }).strict().optional(),
    sessions: z.array(sessionRecord),
    /** Escrows locked with `driver lock` (absent in state files written before escrows existed). */
    escrows: z.array(escrowRecord).optional(),
  })
  .strict();

export type MeterRecord = z.output<typeof meterRecord>;
export type TariffRecord = z.output<typeof tariffRecord>;
export type LiveSessionRecord = LiveSessionLog;
export type SessionRecordEntry = z.output<typeof sessionRecord>;
export type EscrowRecord = z.output<typeof escrowRecord>;
/** The whole state file. */
export type CliState = z.output<typeof cliState>;

/** The state file's text is not a state: the message names the field and what is wrong with it. */
export class StateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateFormatError";
  }
}

/** `sessions[2].session.points[0].t` */
function fieldPath(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("") || "(top level)";
}

function describeIssue(issue: z.ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `${fieldPath(issue.path)}: ${issue.received === "undefined" ? "missing" : `expected ${issue.expected}, got ${issue.received}`}`;
    case "unrecognized_keys":
      return issue.keys.map((k) => `${fieldPath([...issue.path, k])}: unknown field`).join(", ");
    case "invalid_enum_value":
      return `${fieldPath(issue.path)}: expected ${issue.options.map((o) => JSON.stringify(o)).join(" | ")}, got ${JSON.stringify(issue.received)}`;
    default:
      return `${fieldPath(issue.path)}: ${issue.message}`;
  }
}

// ---------------------------------------------------------------------------------------------- text

/** The state file's first field, for whoever opens it: what it holds and where real keys go. */
export const STATE_NOTICE =
  "zkcharge dev state: holds the driver's identity secret and meter keys IN PLAINTEXT; for dev chains only " +
  "(ZKCHARGE_DEV_CHAINS, default 31337, 1337). On any other chain keys live in encrypted key files: zkcharge key --help, docs/keys.md";

/** JSON text of a state, bigints as `"<digits>n"`, headed by {@link STATE_NOTICE}. */
export function serializeState(state: CliState): string {
  return (
    JSON.stringify(
      { notice: STATE_NOTICE, ...state },
      (_key, value: unknown) => (typeof value === "bigint" ? `${value}n` : value),
      2,
    ) + "\n"
  );
}

/** The plaintext secrets `state` holds, as people name them (empty when none). */
export function stateSecrets(state: CliState): string[] {
  return [
    ...(state.driver ? ["the driver's identity secret"] : []),
    ...(state.meters.length ? ["meter private keys"] : []),
  ];
}

/**
 * Why `secrets` (named as {@link stateSecrets} does) must not be written to the state file of chain `chainId`, or
 * undefined: they may be when there are none or the chain is one of `devChains`.
 */
export function plaintextSecretsProblem(
  chainId: bigint,
  secrets: readonly string[],
  devChains: readonly bigint[],
): string | undefined {
  if (secrets.length === 0 || devChains.includes(chainId)) return undefined;
  return (
    `refusing to write ${secrets.join(" and ")} in plaintext to the state file: chain ${chainId} is not a dev ` +
    `chain (dev chains: ${devChains.join(", ") || "none"}; --dev-chains / ZKCHARGE_DEV_CHAINS). The plaintext state ` +
    "file is for dev chains only: keep keys in encrypted key files (`zkcharge key wallet --out driver.json` for the " +
    "driver, `zkcharge key new` for accounts; docs/keys.md)"
  );
}

/**
 * Parses {@link serializeState}'s output, checking every field against the schema.
 * @throws StateFormatError naming the first bad field, e.g. `sessions[2].session.points[0].t: expected a decimal integer string`
 */
export function parseState(text: string): CliState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StateFormatError(`not JSON (${(error as Error).message})`);
  }
  if (typeof raw === "object" && raw !== null && "notice" in raw) {
    const { notice: _notice, ...rest } = raw as Record<string, unknown>;
    raw = rest;
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (version !== STATE_VERSION)
    throw new StateFormatError(`unsupported state file version ${JSON.stringify(version)} (expected ${STATE_VERSION})`);
  const parsed = cliState.safeParse(raw);
  if (!parsed.success) {
    const [first, ...more] = parsed.error.issues;
    throw new StateFormatError(describeIssue(first!) + (more.length ? ` (and ${more.length} more problem(s))` : ""));
  }
  return parsed.data;
}

/** Reads the state file, or `undefined` when it does not exist. */
export function loadState(path: string): CliState | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  try {
    return parseState(text);
  } catch (error) {
    throw new StateFormatError(`state file ${path}: ${(error as Error).message}`);
  }
}

/** Writes the state file atomically. */
export function saveState(path: string, state: CliState, hooks?: AtomicWriteHooks): void {
  writeFileAtomic(path, serializeState(state), hooks);
}
