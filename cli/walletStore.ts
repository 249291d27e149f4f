/**
 * The driver wallet's own key store (`zkcharge wallet ...`): one file in the SDK's encrypted wallet format
 * (sdk/keys/wallet.ts: scrypt + XChaCha20-Poly1305, docs/keys.md), written atomically on every change (temp file,
 * fsync, rename: a reader or a crash sees the old file or the new one, never half of one). It holds the Semaphore
 * identity and, encrypted with it, the wallet's records: the chain it is on, the pool's sync snapshot (the cursor
 * and the notes' tree, so a restart reads only new blocks), what trial decryption found (so a restart decrypts
 * only new leaves) and every charging session (station URL, charger, nonces, escrow, the station's token, the
 * readings received, state). Nothing of the CPO's.
 *
 * A second process on the same file is refused while the first runs (a lock file next to it, holding its PID).
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { z } from "zod";
import {
  DriverIdentity,
  UnlockedWallet,
  readKeyFile,
  writeKeyFile,
  type JsonValue,
  type NoteScan,
  type NoteScanStore,
  type ScryptCost,
  type SyncStore,
  type SyncSnapshot,
} from "../sdk/index.ts";
import { CliError } from "./errors.ts";

/** What the wallet's records say they are (inside the encrypted data). */
export const WALLET_DATA_FORMAT = "zkcharge.cli-wallet.v1";

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "must be a decimal string");

/** Where a session stands, as the wallet last wrote it (each step is written before it is taken). */
export const WALLET_SESSION_STATES = [
  /** The offer was checked against the registry; nothing locked yet. */
  "offered",
  /** A lock is being proved and relayed (an escrow may exist on-chain: `resume` looks it up). */
  "locking",
  /** The escrow is locked; the station was not asked to start yet. */
  "locked",
  /** The station accepted the start (token stored): charging, readings being verified. */
  "charging",
  /** The session end arrived and checked: the close is being proved and handed over. */
  "ended",
  /** The escrow was closed on-chain (by this wallet's proof or by the station from a tail). */
  "closed",
  /** The station or the charger refused the start; the escrow (if locked) is refunded after its claim deadline. */
  "refused",
  /** Nobody closed the escrow by its claim deadline: its whole cap came back (`wallet refund`). */
  "refunded",
] as const;
export type WalletSessionState = (typeof WALLET_SESSION_STATES)[number];

const readingSchema = z.object({
  seqNo: z.number().int().nonnegative(),
  signedMeterData: z.string(),
  publicKey: z.string(),
  signingMethod: z.string(),
  encodingMethod: z.string(),
});

/** A reading as the wallet keeps it: the station's seqNo and the meter's signed value, verbatim. */
export type StoredReading = z.output<typeof readingSchema>;

const sessionSchema = z.object({
  /** The wallet's handle: `w1`, `w2`... */
  id: z.string(),
  station: z.string(),
  chargerId: z.string(),
  cpoId: decimal,
  chainId: decimal,
  pool: z.string(),
  /** The offer's terms, as the station gave them and the wallet checked them against the registry. */
  tariff: z.record(z.string(), z.union([decimal, z.array(decimal), z.record(z.string(), decimal)])),
  tariffHash: decimal,
  meterPublicKey: z.tuple([decimal, decimal]),
  ratedPowerW: decimal,
  meterLeaf: decimal,
  stationNonce: decimal,
  driverNonce: decimal,
  sessionId: decimal,
  cap: decimal,
  settleDeadline: decimal,
  claimDeadline: decimal,
  fee: decimal.optional(),
  escrowId: decimal.optional(),
  lockTx: z.string().optional(),
  /** The station's bearer token for this session. */
  token: z.string().optional(),
  state: z.enum(WALLET_SESSION_STATES),
  /** Every reading received and verified, in seqNo order. */
  readings: z.array(readingSchema),
  /** Why the wallet stopped: the user, a limit, or the rule a reading broke. */
  stopReason: z.string().optional(),
  /** The first reading that broke a rule: its seqNo and the rule (never paid for). */
  violation: z.object({ seqNo: z.number().int(), rule: z.string() }).optional(),
  /** What the close charged and what came back (token base units). */
  amount: decimal.optional(),
  refund: decimal.optional(),
  closeTx: z.string().optional(),
  /** How it was closed: by this wallet's proof from the session end, or by the station from a tail. */
  closedBy: z.enum(["wallet", "station"]).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A charging session as the wallet records it (bigints as decimal strings). */
export type WalletSession = z.output<typeof sessionSchema>;

const dataSchema = z.object({
  format: z.literal(WALLET_DATA_FORMAT),
  createdAt: z.string(),
  /** The chain and pool the wallet was first used on (it refuses another). */
  chain: z.object({ chainId: decimal, pool: z.string(), deploymentBlock: z.number().int().nonnegative() }).optional(),
  /** The pool's sync snapshot (sdk/actors/sync.ts), or null before the first sync. */
  sync: z.unknown().optional(),
  /** What trial decryption found so far (sdk/actors/noteScan.ts: note openings, so only in this encrypted file). */
  scan: z.unknown().optional(),
  sessions: z.array(sessionSchema),
});

/** The wallet's records. */
export type WalletData = z.output<typeof dataSchema>;

/** What the lock file of `path` is. */
const lockPath = (path: string) => `${path}.lock`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Takes the lock of the wallet file `path` for this process; a stale lock (its process is gone, e.g. after
 * `kill -9`) is taken over.
 * @throws CliError if another running process holds it
 */
function takeLock(path: string): () => void {
  const file = lockPath(path);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => {
        process.off("exit", release);
        try {
          if (readFileSync(file, "utf8") === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once("exit", release); // a process that ends without close() leaves no lock behind
      return release;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(file, "utf8").trim());
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
        throw new CliError(
          `the wallet file ${path} is in use by process ${holder} (lock ${file}): wait for it to finish, ` +
            "or, if that process is not a zkcharge wallet, remove the lock file",
        );
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new CliError(`cannot take the lock ${file} of the wallet file ${path}`);
}

/** An open wallet file: its identity and records; every {@link update} is written atomically before it returns. */
export class WalletStore {
  readonly path: string;
  readonly identity: DriverIdentity;
  /** The file's key, derived once (scrypt) and held while the store is open: rewrites need no new derivation. */
  readonly #wallet: UnlockedWallet;
  readonly #release: () => void;
  #data: WalletData;
  /** Writes are queued: one at a time, in order. */
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    path: string,
    identity: DriverIdentity,
    wallet: UnlockedWallet,
    data: WalletData,
    release: () => void,
  ) {
    this.path = path;
    this.identity = identity;
    this.#wallet = wallet;
    this.#data = data;
    this.#release = release;
  }

  /**
   * Creates a new wallet file at `path` with a fresh Semaphore identity (refuses an existing file unless `force`).
   * @throws KeyFileAccessError `KEY_FILE_EXISTS` if there is one
   */
  static async create(
    path: string,
    passphrase: string,
    options: { scrypt?: ScryptCost; force?: boolean; identity?: DriverIdentity } = {},
  ): Promise<WalletStore> {
    const identity = options.identity ?? DriverIdentity.random();
    const data: WalletData = { format: WALLET_DATA_FORMAT, createdAt: new Date().toISOString(), sessions: [] };
    const contents = { identitySecret: identity.export(), data: data as JsonValue };
    const wallet = await UnlockedWallet.create(contents, passphrase, { scrypt: options.scrypt });
    writeKeyFile(path, wallet.seal(contents), "wallet file", { force: options.force });
    return new WalletStore(path, identity, wallet, data, takeLock(path));
  }

  /**
   * Opens the wallet file at `path` with `passphrase` and takes its lock.
   * @throws KeyFileAccessError (missing), KeyFileFormatError (truncated, damaged, not a wallet file),
   *   WrongPassphraseError, KeyFileIntegrityError, CliError (its records are not a zkcharge wallet's; in use)
   */
  static async open(path: string, passphrase: string): Promise<WalletStore> {
    const text = readKeyFile(path, "wallet file");
    const wallet = await UnlockedWallet.open(text, passphrase, { source: `wallet file ${path}` });
    const contents = wallet.contents;
    const parsed = dataSchema.safeParse(contents.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CliError(
        `wallet file ${path} opens, but its records are not a zkcharge wallet's (${issue.path.join(".") || "data"}: ` +
          `${issue.message}): was it written by \`key wallet\`? Use \`wallet create\` for a charging wallet`,
      );
    }
    const release = takeLock(path);
    return new WalletStore(path, DriverIdentity.fromSecret(contents.identitySecret), wallet, parsed.data, release);
  }

  /** Whether a wallet file exists at `path`. */
  static exists(path: string): boolean {
    return existsSync(path);
  }

  /** The records as last written (a copy). */
  get data(): WalletData {
    return structuredClone(this.#data);
  }

  /**
   * Replaces the records with `change(records)` and writes the file atomically (re-encrypted under the file's key
   * and nonce). Nothing changes, in memory or on disk, if `change` or the write throws.
   */
  update(change: (data: WalletData) => WalletData): Promise<void> {
    const run = async () => {
      const next = dataSchema.parse(change(structuredClone(this.#data)));
      const text = this.#wallet.seal({ identitySecret: this.identity.export(), data: next as JsonValue });
      writeKeyFile(this.path, text, "wallet file", { force: true });
      this.#data = next;
    };
    const result = this.#writing.then(run, run);
    this.#writing = result.catch(() => {});
    return result;
  }

  /** The session `ref` (`w1`, or its session id), or the most recent one that is not closed. */
  session(ref?: string): WalletSession {
    const sessions = this.#data.sessions;
    const found =
      ref === undefined
        ? [...sessions].reverse().find((s) => s.state !== "closed" && s.state !== "refused" && s.state !== "offered")
        : sessions.find((s) => s.id === ref || s.sessionId === ref);
    if (!found)
      throw new CliError(
        ref === undefined
          ? `no unfinished session in ${this.path} (\`wallet sessions\` lists them)`
          : `unknown session "${ref}" (known: ${sessions.map((s) => s.id).join(", ") || "none"})`,
      );
    return structuredClone(found);
  }

  /** Writes the session `id` with `change` applied (and its `updatedAt`). */
  updateSession(id: string, change: Partial<WalletSession>): Promise<void> {
    return this.update((d) => ({
      ...d,
      sessions: d.sessions.map((s) => (s.id === id ? { ...s, ...change, updatedAt: new Date().toISOString() } : s)),
    }));
  }

  /** The pool's sync snapshot kept in this wallet file, as a {@link SyncStore}. */
  syncStore(): SyncStore {
    return {
      load: async () => this.#data.sync ?? undefined,
      save: (snapshot: SyncSnapshot) => this.update((d) => ({ ...d, sync: snapshot })),
    };
  }

  /** What the wallet's trial decryption found, kept in this encrypted file, as a {@link NoteScanStore}. */
  noteScanStore(): NoteScanStore {
    return {
      load: async () => this.#data.scan ?? undefined,
      save: (scan: NoteScan) => this.update((d) => ({ ...d, scan })),
    };
  }

  /** Waits for the queued writes and releases the lock. */
  async close(): Promise<void> {
    await this.#writing;
    this.#release();
    this.#wallet.lock();
  }
}
