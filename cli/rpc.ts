/**
 * The JSON-RPC side of the CLI: connecting to the node (with a clear error when it is down), the role signers (a
 * role's keystore when configured, else on dev chains only the node's unlocked accounts 0..3: cli/signers.ts) and the
 * deployed contracts of a state file.
 *
 * Every wait on the node is bounded by the run's time-out (`--timeout`, `ZKCHARGE_TIMEOUT`): each request, and
 * each transaction this command sent until its receipt arrives ({@link TxWatch}). When the node stops answering
 * after a transaction went out, the command fails naming the transaction's hash and how to check it, instead of
 * waiting forever (ethers' `wait()` has no bound, and its receipt polling swallows network errors).
 */
import {
  Contract,
  FetchRequest,
  Interface,
  JsonRpcProvider,
  Network,
  keccak256,
  type JsonRpcPayload,
  type JsonRpcResult,
} from "ethers";
import { Pool__factory, Registry__factory, type Pool, type Registry } from "../sdk/index.ts";
import { CliError } from "./errors.ts";
import { ROLE_LABELS, ROLES, roleSigner, type RoleIndex, type RoleSigner, type SignerConfig } from "./signers.ts";
import type { CliState } from "./state.ts";

/** Default bound on every wait for the node, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** The node stopped answering: the message names what was waited for and, if one was sent, the transaction. */
export class RpcTimeoutError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = "RpcTimeoutError";
  }
}

/** Contract calls by their selector, to name a transaction in messages (`Pool.pay`). */
const NAMED: readonly [string, Interface][] = [
  ["Pool", Pool__factory.createInterface()],
  ["Registry", Registry__factory.createInterface()],
  [
    "token",
    new Interface([
      "function approve(address,uint256)",
      "function mint(address,uint256)",
      "function transfer(address,uint256)",
    ]),
  ],
];

/** What a transaction request does, e.g. `Pool.pay` or `contract creation`. */
function txName(tx: { to?: string | null; data?: string | null } | undefined): string {
  if (!tx?.to) return "contract creation";
  for (const [contract, iface] of NAMED) {
    try {
      const parsed = iface.parseTransaction({ data: tx.data ?? "0x" });
      if (parsed) return `${contract}.${parsed.name}`;
    } catch {
      // not this contract's call
    }
  }
  return `a call to ${tx.to}`;
}

const SEND_METHODS = new Set(["eth_sendTransaction", "eth_sendRawTransaction"]);

/**
 * The transactions one command run sent, until their receipts arrive, each on a timer of `timeoutMs`: when one
 * runs out, {@link failure} rejects with an {@link RpcTimeoutError} naming the transaction and how to check it.
 * `runs` races the command against {@link failure}.
 */
export class TxWatch {
  readonly rpc: string;
  readonly timeoutMs: number;
  /** Rejects when a sent transaction got no receipt in time; never resolves. */
  readonly failure: Promise<never>;
  readonly #pending = new Map<string, { what: string; timer: NodeJS.Timeout }>();
  #fail!: (error: Error) => void;

  constructor(rpc: string, timeoutMs: number) {
    this.rpc = rpc;
    this.timeoutMs = timeoutMs;
    this.failure = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    this.failure.catch(() => {}); // raced by `runs`; never an unhandled rejection after the command ended
  }

  /** `--timeout` as people write it. */
  get bound(): string {
    return `${this.timeoutMs / 1000} s (--timeout / ZKCHARGE_TIMEOUT)`;
  }

  /** The node accepted transaction `hash` (`what`, e.g. `Pool.pay`): its receipt is due within the time-out. */
  sent(hash: string, what: string): void {
    const timer = setTimeout(() => {
      this.#fail(
        new RpcTimeoutError(
          `sent transaction ${hash} (${what}) to ${this.rpc}, but no receipt came within ${this.bound}: ` +
            `the node stopped answering. ${this.#advice(hash)}`,
        ),
      );
    }, this.timeoutMs);
    timer.unref();
    this.#pending.set(hash.toLowerCase(), { what, timer });
  }

  /** The receipt of `hash` arrived. */
  mined(hash: string): void {
    const entry = this.#pending.get(hash.toLowerCase());
    if (entry) clearTimeout(entry.timer);
    this.#pending.delete(hash.toLowerCase());
  }

  /** Sent transactions still without a receipt, as `0x... (Pool.pay)`. */
  pendingText(): string | undefined {
    if (this.#pending.size === 0) return undefined;
    return [...this.#pending].map(([hash, { what }]) => `${hash} (${what})`).join(", ");
  }

  #advice(hash: string): string {
    return (
      `It may still be mined: once the node answers, check it with \`zkcharge chain tx --hash ${hash}\` before sending it again ` +
      "(every command also reconciles the state file with the chain first)"
    );
  }

  /** An error for a request that failed (time-out or network), naming any transaction this request or an earlier one sent. */
  requestFailed(payload: JsonRpcPayload, error: unknown): CliError {
    const e = error as { code?: string; shortMessage?: string; message?: string; cause?: { code?: string } };
    const why =
      e.code === "TIMEOUT"
        ? `did not answer ${payload.method} within ${this.bound}`
        : `failed on ${payload.method} (${e.cause?.code ?? e.shortMessage ?? e.message ?? String(error)})`;
    if (SEND_METHODS.has(payload.method)) {
      const params = payload.params as unknown[];
      const what =
        payload.method === "eth_sendTransaction"
          ? txName(params[0] as { to?: string; data?: string })
          : "a signed transaction";
      const raw = payload.method === "eth_sendRawTransaction" ? ` (hash ${keccak256(params[0] as string)})` : "";
      return new RpcTimeoutError(
        `the node at ${this.rpc} ${why} while sending ${what}${raw}: the transaction may or may not have been sent. ` +
          "Once the node answers, run `zkcharge status` (it reconciles the state file with the chain) before trying again",
      );
    }
    const pending = this.pendingText();
    if (pending) {
      const first = [...this.#pending.keys()][0]!;
      return new RpcTimeoutError(
        `the node at ${this.rpc} ${why} after this command sent ${pending}, which has no receipt yet. ${this.#advice(first)}`,
      );
    }
    return new RpcTimeoutError(`the node at ${this.rpc} ${why}: is it still running?`);
  }

  /** Stops every timer (the command ended). */
  dispose(): void {
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

/**
 * A JSON-RPC provider whose every request is bounded by the run's time-out and whose sent transactions are
 * reported to the run's {@link TxWatch} (and their receipts, which end the watch).
 */
class WatchedProvider extends JsonRpcProvider {
  readonly #watch: TxWatch;

  constructor(watch: TxWatch, network: Network) {
    const request = new FetchRequest(watch.rpc);
    request.timeout = watch.timeoutMs;
    // One request per HTTP call: each then has its own bound and its own error. No cache of identical requests: a
    // keystore signer asks the nonce before each transaction, and a cached answer would reuse the last one.
    super(request, network, { staticNetwork: true, pollingInterval: 200, batchMaxCount: 1, cacheTimeout: -1 });
    this.#watch = watch;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const payloads = Array.isArray(payload) ? payload : [payload];
    let results: JsonRpcResult[];
    try {
      results = await super._send(payload);
    } catch (error) {
      throw this.#watch.requestFailed(payloads[0]!, error);
    }
    for (const p of payloads) {
      const r = results.find((x) => x.id === p.id);
      if (!r || !("result" in r)) continue;
      const params = p.params as unknown[];
      if (SEND_METHODS.has(p.method) && typeof r.result === "string") {
        this.#watch.sent(
          r.result,
          p.method === "eth_sendTransaction"
            ? txName(params[0] as { to?: string; data?: string })
            : "a signed transaction",
        );
      } else if (p.method === "eth_getTransactionReceipt" && r.result) {
        this.#watch.mined(params[0] as string);
      }
    }
    return results;
  }
}

/** Where a command's node is: the endpoint, the bound on waiting for it and where the roles' signers come from. */
export interface Endpoint {
  rpc: string;
  watch: TxWatch;
  signers: SignerConfig;
}

/** A connected node. */
export interface Chain {
  provider: JsonRpcProvider;
  chainId: bigint;
  /**
   * Role signers: 0 deployer, 1 CPO, 2 payer, 3 relayer; each the role's keystore account if one is configured, else
   * (dev chains only) the node's unlocked account of that index. Asked once per role and run.
   */
  signer(role: RoleIndex): Promise<RoleSigner>;
}

/** A connected node with the state file's contracts on it. */
export interface Deployed extends Chain {
  state: CliState;
  pool: Pool;
  registry: Registry;
  token: Contract;
}

/**
 * Connects to the run's endpoint; the chain id is asked first with a plain fetch, so a node that is down fails
 * fast and clearly. Every later request and sent transaction is bounded by `ctx.watch`.
 */
export async function connect(ctx: Endpoint): Promise<Chain> {
  const { rpc, watch, signers } = ctx;
  let chainId: bigint;
  try {
    const response = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(Math.min(watch.timeoutMs, 10_000)),
    });
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`eth_chainId returned ${JSON.stringify(body)}`);
    chainId = BigInt(body.result);
  } catch (error) {
    const inner = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (error as Error).message;
    throw new CliError(
      `cannot reach the JSON-RPC endpoint ${rpc} (${cause}): start one with \`npx hardhat node\`, or pass --rpc / set ZKCHARGE_RPC`,
    );
  }
  const provider = new WatchedProvider(watch, Network.from(chainId));
  let accounts: string[] | undefined;
  const unlocked = async (role: RoleIndex): Promise<RoleSigner> => {
    accounts ??= (await provider.send("eth_accounts", [])) as string[];
    if (accounts.length <= role) {
      throw new CliError(
        `the node at ${rpc} exposes ${accounts.length} unlocked account(s); the ${ROLE_LABELS[ROLES[role]]} is ` +
          `account ${role} (zkcharge needs 4: use \`npx hardhat node\` or another dev node, or give the role a keystore)`,
      );
    }
    return provider.getSigner(role);
  };
  const cache = new Map<RoleIndex, Promise<RoleSigner>>();
  return {
    provider,
    chainId,
    signer(role) {
      let s = cache.get(role);
      if (s === undefined) {
        s = roleSigner(signers, ROLES[role], chainId, provider, () => unlocked(role));
        s.catch(() => cache.delete(role));
        cache.set(role, s);
      }
      return s;
    },
  };
}

/** Connects and checks that the node is the state's chain and still holds its Pool (a restarted node does not). */
export async function attach(ctx: Endpoint & { statePath: string }, state: CliState): Promise<Deployed> {
  const chain = await connect(ctx);
  if (chain.chainId !== state.chainId) {
    throw new CliError(
      `${ctx.rpc} is chain ${chain.chainId}, but ${ctx.statePath} was deployed on chain ${state.chainId}`,
    );
  }
  if ((await chain.provider.getCode(state.addresses.pool)) === "0x") {
    throw new CliError(
      `no Pool contract at ${state.addresses.pool} on ${ctx.rpc}: the node was restarted since \`deploy\`? ` +
        "Run `deploy --force` to start over",
    );
  }
  return {
    ...chain,
    state,
    pool: Pool__factory.connect(state.addresses.pool, chain.provider),
    registry: Registry__factory.connect(state.addresses.registry, chain.provider),
    token: new Contract(state.addresses.token, ["function balanceOf(address) view returns (uint256)"], chain.provider),
  };
}

/** The latest block's timestamp. */
export async function chainTime(provider: JsonRpcProvider): Promise<bigint> {
  return BigInt((await provider.getBlock("latest"))!.timestamp);
}

/** The test token balance of `address`. */
export async function tokenBalance(d: Deployed, address: string): Promise<bigint> {
  return (await d.token.getFunction("balanceOf")(address)) as bigint;
}
