/**
 * Ranged `eth_getLogs`: reads a contract's events over any span of blocks in bounded block ranges (never wider
 * than `maxBlockRange`), retries failed or timed-out requests with exponential backoff, and halves the range when
 * the provider answers that a range or its result is too large. Browser-safe (ethers and timers only).
 */
import { FetchRequest, toQuantity, type Provider } from "ethers";
import { InvalidInputError, ZkchargeError } from "../core/errors.ts";

/** Default widest block range of one `eth_getLogs` request (what most public RPC providers accept). */
export const DEFAULT_MAX_BLOCK_RANGE = 10_000;

/** Options of {@link readLogs}; every field is optional. */
export interface LogReaderOptions {
  /** Widest block range of one request, inclusive of both ends (default {@link DEFAULT_MAX_BLOCK_RANGE}). */
  maxBlockRange?: number;
  /** Tries per range before giving up (default 5). */
  attempts?: number;
  /**
   * Wait before the first retry in ms, doubled on every further retry (default 500). Keep it above the provider's
   * request cache (ethers' `cacheTimeout`, 250 ms by default), or a retry gets the cached failure back.
   */
  backoffMs?: number;
  /** Longest wait between retries in ms (default 8000). */
  maxBackoffMs?: number;
  /** A request not answered within this many ms counts as failed, and the range is halved (default 30000). */
  timeoutMs?: number;
  /**
   * Logs wanted per answer (default 5,000): the range adapts to the density of events, growing (doubling, up to
   * `maxBlockRange`) while answers hold fewer, shrinking in proportion when they hold more, so one answer stays
   * a few MB even on a node that caps nothing.
   */
  targetLogs?: number;
  /** Range of the first request (default 1,000 blocks, at most `maxBlockRange`): it grows from there. */
  initialBlockRange?: number;
  /**
   * Ranges read at once (default 4). Answers are still handed on strictly in block order; each range stays within
   * `maxBlockRange`. Note that ethers' `JsonRpcProvider` batches requests sent within `batchStallTime` into one
   * HTTP request unless it is created with `batchMaxCount: 1`; concurrency then only saves the round trips.
   */
  concurrency?: number;
  /** Called before every `eth_getLogs` request (for progress or counting). */
  onRequest?: (fromBlock: number, toBlock: number) => void;
}

/** A block range could not be read: the range, the tries and the provider's last error are in the message. */
export class LogReadError extends ZkchargeError {
  /** First block of the range that failed. */
  readonly fromBlock: number;
  /** Last block of the range that failed. */
  readonly toBlock: number;

  /**
   * @param fromBlock first block of the failed range
   * @param toBlock last block of the failed range
   * @param message what failed, naming the range and the RPC error
   * @param cause the provider's last error
   */
  constructor(fromBlock: number, toBlock: number, message: string, cause?: unknown) {
    super("LOG_READ_FAILED", message);
    this.fromBlock = fromBlock;
    this.toBlock = toBlock;
    this.cause = cause;
  }
}

/** What providers say when a range or its result is too large (Infura, Alchemy, QuickNode, geth, Erigon, ...). */
const TOO_LARGE =
  /more than \d+ (results|logs)|too many (results|logs|blocks)|block range|range (is )?too (wide|large|big)|exceeds? (the )?max(imum)?|max(imum)? (block )?range|response size|result(s)? (set )?(is )?too (large|big)|limit exceeded|query timeout exceeded/i;

/** Every message an ethers or JSON-RPC error carries (ethers wraps the provider's message several levels deep). */
export function errorText(e: unknown): string {
  const seen = new Set<string>();
  const visit = (x: unknown, depth: number): void => {
    if (depth > 4 || x === null || typeof x !== "object") {
      if (typeof x === "string" && x.length > 0) seen.add(x);
      return;
    }
    const o = x as Record<string, unknown>;
    for (const key of ["shortMessage", "message"]) if (typeof o[key] === "string") seen.add(o[key] as string);
    for (const key of ["error", "info", "cause", "data"]) visit(o[key], depth + 1);
  };
  visit(e, 0);
  return [...seen].join(" / ") || String(e);
}

/** True when `e` says the requested block range, or its result, is larger than the provider serves. */
export function isRangeTooLarge(e: unknown): boolean {
  return TOO_LARGE.test(errorText(e));
}

class TimeoutError extends Error {}

/** Another range failed: the ranges still in flight stop retrying. */
class Cancelled extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidInputError(`${name} must be a positive integer`);
  return value;
}

/**
 * A log as the node sent it, with numbers parsed: what the sync needs, without ethers' per-log formatting (address
 * checksums, hash checks, `Log` objects cost about 90 µs a log, most of the time of reading 100,000 events).
 */
export interface RawLog {
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  /** Position of the log in its block. */
  index: number;
  topics: readonly string[];
  data: string;
  removed: boolean;
}

interface JsonRpcLog {
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  topics: string[];
  data: string;
  removed?: boolean;
}

const isHex = (x: unknown): x is string => typeof x === "string" && /^0x[0-9a-fA-F]*$/.test(x);

/**
 * The HTTP endpoint of an ethers `JsonRpcProvider` (URL and headers), when its `eth_getLogs` answers can be fetched
 * with the platform's `fetch` instead: ethers' Node transport joins the chunks of an answer by copying the whole
 * body for each chunk, and decodes UTF-8 in JavaScript (1.5 s for a 2 MB answer here, against 15 ms for
 * `TextDecoder`), so reading 100 MB of logs through it took over a minute. Not for endpoints with credentials
 * (ethers adds those itself).
 */
function endpointOf(provider: Provider): { url: string; headers: Record<string, string> } | undefined {
  const connection = (provider as Provider & { _getConnection?: () => unknown })._getConnection?.();
  if (!(connection instanceof FetchRequest) || typeof fetch !== "function") return undefined;
  if (connection.credentials !== null || !/^https?:\/\//i.test(connection.url)) return undefined;
  return { url: connection.url, headers: connection.headers };
}

/** A JSON-RPC error answer, carried so that {@link errorText} and {@link isRangeTooLarge} read its message. */
class RpcError extends Error {
  readonly error: unknown;
  constructor(message: string, error: unknown) {
    super(message);
    this.error = error;
  }
}

/** One `eth_getLogs` POSTed with `fetch`; the answer decoded and parsed natively. */
async function fetchLogs(
  endpoint: { url: string; headers: Record<string, string> },
  filter: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const response = await fetch(endpoint.url, {
    method: "POST",
    headers: { ...endpoint.headers, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getLogs", params: [filter] }),
    signal: AbortSignal.timeout(timeoutMs + 1_000), // frees the socket; the reader's own timeout fires first
  });
  const text = await response.text();
  let answer: { result?: unknown; error?: { message?: unknown } };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new Error(`eth_getLogs: HTTP ${response.status}, not a JSON-RPC answer: ${text.slice(0, 200)}`);
  }
  if (answer.error !== undefined) {
    throw new RpcError(`eth_getLogs: ${String(answer.error?.message ?? JSON.stringify(answer.error))}`, answer.error);
  }
  if (!response.ok) throw new Error(`eth_getLogs: HTTP ${response.status}: ${text.slice(0, 200)}`);
  return answer.result;
}

/**
 * `eth_getLogs` fetched directly from a JSON-RPC provider's HTTP endpoint ({@link endpointOf}), else through its
 * `send`, else through `getLogs`; the logs parsed minimally (no ethers `Log` objects).
 */
async function getLogs(
  provider: Provider,
  query: LogQuery,
  fromBlock: number,
  toBlock: number,
  timeoutMs: number,
): Promise<RawLog[]> {
  const send = (provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> }).send;
  if (typeof send !== "function") {
    const logs = await provider.getLogs({ ...query, fromBlock, toBlock });
    return logs.map((l) => ({
      blockNumber: l.blockNumber,
      blockHash: l.blockHash,
      transactionHash: l.transactionHash,
      index: l.index,
      topics: l.topics,
      data: l.data,
      removed: l.removed,
    }));
  }
  const filter = {
    address: query.address,
    topics: query.topics,
    fromBlock: toQuantity(fromBlock),
    toBlock: toQuantity(toBlock),
  };
  const endpoint = endpointOf(provider);
  const result = endpoint
    ? await fetchLogs(endpoint, filter, timeoutMs)
    : await send.call(provider, "eth_getLogs", [filter]);
  if (!Array.isArray(result)) throw new Error(`eth_getLogs returned ${typeof result}, not a list of logs`);
  return (result as JsonRpcLog[]).map((l) => {
    if (!isHex(l.blockNumber) || !isHex(l.blockHash) || !isHex(l.transactionHash) || !isHex(l.data)) {
      throw new Error(`eth_getLogs returned a malformed log: ${JSON.stringify(l).slice(0, 200)}`);
    }
    if (!Array.isArray(l.topics) || !l.topics.every(isHex)) throw new Error("eth_getLogs returned malformed topics");
    return {
      blockNumber: Number(l.blockNumber),
      blockHash: l.blockHash.toLowerCase(),
      transactionHash: l.transactionHash.toLowerCase(),
      index: Number(l.logIndex),
      topics: l.topics.map((t) => t.toLowerCase()),
      data: l.data.toLowerCase(),
      removed: l.removed === true,
    };
  });
}

/** The events to read: one address, and topic0 as one hash or an OR-list of hashes (one request for all). */
export interface LogQuery {
  address: string;
  topics: (string | string[] | null)[];
}

/**
 * Reads every log matching `query` in blocks `fromBlock..toBlock` (inclusive), in ranges of at most
 * `maxBlockRange` blocks, sized to the density of events (`targetLogs`), up to `concurrency` ranges at once. A range
 * the provider calls too large, or does not answer in time, is read again as two halves (down to one block); any
 * other error, or a timeout on one block, is retried with exponential backoff, `attempts` times in all. When a
 * range fails for good, the ranges still in flight are abandoned (no further request is made once this rejects).
 * @param onRange called with each range's logs, strictly in block order (whatever order the answers come in),
 *   before any later range's; when given, the logs are handed to it only (the returned array is empty)
 * @throws LogReadError naming the range and the provider's error when a range fails `attempts` times, or a single
 *   block holds more logs than the provider returns
 */
export async function readLogs(
  provider: Provider,
  query: LogQuery,
  fromBlock: number,
  toBlock: number,
  opts: LogReaderOptions = {},
  onRange?: (logs: RawLog[], fromBlock: number, toBlock: number) => void,
): Promise<RawLog[]> {
  const maxRange = positiveInteger(opts.maxBlockRange ?? DEFAULT_MAX_BLOCK_RANGE, "maxBlockRange");
  const attempts = positiveInteger(opts.attempts ?? 5, "attempts");
  const backoff = opts.backoffMs ?? 500;
  const maxBackoff = opts.maxBackoffMs ?? 8_000;
  const timeoutMs = positiveInteger(opts.timeoutMs ?? 30_000, "timeoutMs");
  const targetLogs = positiveInteger(opts.targetLogs ?? 5_000, "targetLogs");
  const concurrency = positiveInteger(opts.concurrency ?? 4, "concurrency");
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) {
    throw new InvalidInputError(`fromBlock ${fromBlock} is not a block number`);
  }
  let span = Math.min(maxRange, positiveInteger(opts.initialBlockRange ?? 1_000, "initialBlockRange"));
  /** Set when a range failed for good: the others stop (their waits end at once, no new request is made). */
  let cancel: (() => void) | undefined;
  const cancelled = new Promise<void>((resolve) => (cancel = resolve));
  let failed = false;
  const pause = async (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), cancelled]);
    clearTimeout(timer);
    if (failed) throw new Cancelled();
  };

  type Piece = { logs: RawLog[]; from: number; to: number };
  const readRange = async (from: number, to: number): Promise<Piece[]> => {
    for (let attempt = 1; ; attempt++) {
      if (failed) throw new Cancelled();
      let logs: RawLog[];
      try {
        opts.onRequest?.(from, to);
        logs = await withTimeout(
          getLogs(provider, query, from, to, timeoutMs),
          timeoutMs,
          `eth_getLogs ${from}..${to}`,
        );
      } catch (e) {
        if (!(e instanceof TimeoutError) && isRangeTooLarge(e)) {
          if (to === from) {
            throw new LogReadError(
              from,
              to,
              `eth_getLogs of block ${from} alone is too large for the provider: ${errorText(e)}`,
              e,
            );
          }
          return halves(from, to); // not a failed try
        }
        if (e instanceof TimeoutError && to > from) {
          // A slow answer is often a heavy one: ask again for half the range (bounded: down to one block, where
          // timeouts count as failed tries).
          await pause(Math.min(maxBackoff, backoff * 2 ** (attempt - 1)));
          return halves(from, to);
        }
        if (attempt >= attempts) {
          throw new LogReadError(
            from,
            to,
            `eth_getLogs for blocks ${from}..${to} failed after ${attempts} attempts: ${errorText(e)}`,
            e,
          );
        }
        await pause(Math.min(maxBackoff, backoff * 2 ** (attempt - 1)));
        continue;
      }
      const live = logs.filter((l) => !l.removed);
      for (const l of live) {
        if (l.blockNumber < from || l.blockNumber > to) {
          throw new LogReadError(from, to, `eth_getLogs ${from}..${to} returned a log of block ${l.blockNumber}`);
        }
      }
      // Follow the density of events: shrink in proportion to a heavy answer, double after a light one.
      const width = to - from + 1;
      if (live.length > targetLogs) span = Math.max(1, Math.floor((width * targetLogs) / live.length));
      else if (live.length < targetLogs / 2) span = Math.min(maxRange, Math.max(span, width) * 2);
      answered = true;
      return [{ logs: live, from, to }];
    }
  };
  const halves = async (from: number, to: number): Promise<Piece[]> => {
    const half = Math.floor((to - from + 1) / 2);
    span = Math.min(span, half);
    const first = await readRange(from, from + half - 1);
    return [...first, ...(await readRange(from + half, to))];
  };

  // Ranges are launched in block order and handed on in that order; a new one starts whenever one finishes. Until
  // the first answer tells the density of events, only one range is in flight.
  const queue: Promise<Piece[]>[] = [];
  let next = fromBlock;
  let inFlight = 0;
  let answered = false;
  let failure: unknown;
  const launch = (): void => {
    while (!failed && next <= toBlock && inFlight < concurrency && (answered || inFlight === 0)) {
      const from = next;
      const to = Math.min(toBlock, from + span - 1);
      next = to + 1;
      inFlight++;
      const read = readRange(from, to).finally(() => {
        inFlight--;
        launch();
      });
      // The first range to fail for good stops the others at once, whichever is first in block order.
      read.catch((e: unknown) => {
        if (failed || e instanceof Cancelled) return;
        failed = true;
        failure = e;
        cancel!();
      });
      queue.push(read);
    }
  };
  launch();
  const all: RawLog[] = [];
  while (queue.length > 0) {
    let pieces: Piece[];
    try {
      pieces = await queue.shift()!;
    } catch (e) {
      failed = true;
      cancel!();
      await Promise.allSettled(queue); // nothing of this read goes on after it rejects
      throw failure ?? e;
    }
    for (const { logs, from, to } of pieces) {
      if (onRange) onRange(logs, from, to);
      else for (const l of logs) all.push(l);
    }
  }
  return all;
}
