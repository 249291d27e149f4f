/**
 * A client of a zkcharge relayer (relayer/, docs/relayer.md) over `fetch`: runs in Node and in a browser. The
 * wallet picks a relayer by URL; {@link Driver.withdraw}, {@link Driver.lock} and {@link Driver.pay} take a client to
 * have the relayer submit (and pay the gas for) what the driver proved, for the quoted fee.
 */
import { getAddress } from "ethers";
import type { z } from "zod";
import { ZkchargeError } from "../core/errors.ts";
import {
  acceptedSchema,
  detailsSchema,
  describeZodError,
  jobSchema,
  quoteSigner,
  signedQuoteSchema,
  type RelayAccepted,
  type RelayJob,
  type RelayOperation,
  type RelayRequest,
  type RelayerDetails,
  type SignedQuote,
} from "./relayerApi.ts";
import { callJsonApi } from "./jsonApi.ts";

/** The relayer refused a request or answered something unexpected; `code` is the relayer's error code. */
export class RelayerError extends ZkchargeError {
  /** HTTP status (0 when the relayer could not be reached or timed out). */
  readonly status: number;

  /**
   * @param status HTTP status, or 0
   * @param code the relayer's error code (e.g. `QUOTE_EXPIRED`), or a client-side one
   * @param message what went wrong
   */
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** Options of {@link RelayerClient}. */
export interface RelayerClientOptions {
  /** Bound on every HTTP request, ms (default 30 000). */
  timeoutMs?: number;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of {@link RelayerClient.waitForJob}. */
export interface WaitOptions {
  /** Give up after this long, ms (default 120 000). */
  timeoutMs?: number;
  /** Poll interval, ms (default 250). */
  pollMs?: number;
}

/** A relayer at one URL. */
export class RelayerClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #details: RelayerDetails | undefined;

  /** @param url the relayer's base URL, e.g. `http://127.0.0.1:8080` */
  constructor(url: string, options: RelayerClientOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  #request<S extends z.ZodTypeAny>(method: string, path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    return callJsonApi({
      service: "relayer",
      baseUrl: this.url,
      url: `${this.url}${path}`,
      path,
      method,
      schema,
      body,
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
      fail: (status, code, message) => new RelayerError(status, code, message),
      describe: describeZodError,
    });
  }

  /** The relayer's chain, pool, account, operations and fee policy (cached after the first call). */
  async details(): Promise<RelayerDetails> {
    this.#details ??= await this.#request("GET", "/details", detailsSchema);
    return this.#details;
  }

  /**
   * The relayer's details, checked to serve pool `pool` on chain `chainId` (a relayer of another pool could not
   * submit this wallet's proofs).
   * @throws RelayerError `WRONG_POOL` naming both pools and chains
   */
  async serving(chainId: bigint, pool: string): Promise<RelayerDetails> {
    const details = await this.details();
    if (details.chainId !== chainId || getAddress(details.pool) !== getAddress(pool)) {
      throw new RelayerError(
        0,
        "WRONG_POOL",
        `relayer ${this.url} serves pool ${details.pool} on chain ${details.chainId}, this wallet is on pool ${pool} on chain ${chainId}`,
      );
    }
    return details;
  }

  /**
   * A signed fee quote for `operation`, checked to be signed by the relayer's own account for its chain and pool
   * (so the fee the proof binds goes to the account that signed it).
   * @throws RelayerError when the quote is not signed by the account the relayer announces
   */
  async quote(operation: RelayOperation): Promise<SignedQuote> {
    const details = await this.details();
    const quote = await this.#request("POST", "/quote", signedQuoteSchema, { operation });
    const same = (a: string, b: string) => getAddress(a) === getAddress(b);
    let signer: string | undefined;
    try {
      signer = quoteSigner(quote);
    } catch {
      // a signature that does not recover: refused below
    }
    const ok =
      signer !== undefined &&
      same(signer, details.relayer) &&
      same(quote.relayer, details.relayer) &&
      same(quote.pool, details.pool) &&
      quote.chainId === details.chainId &&
      quote.operation === operation;
    if (!ok) {
      throw new RelayerError(
        200,
        "BAD_QUOTE",
        `relayer ${this.url}: the quote is not signed for ${operation} on pool ${details.pool} by ${details.relayer}`,
      );
    }
    return quote;
  }

  /** Hands a proved operation to the relayer; returns its job (an existing one for a nullifier it already has). */
  relay(request: RelayRequest): Promise<RelayAccepted> {
    return this.#request("POST", "/relay", acceptedSchema, request);
  }

  /** A job's status. */
  job(id: string): Promise<RelayJob> {
    return this.#request("GET", `/jobs/${encodeURIComponent(id)}`, jobSchema);
  }

  /**
   * Polls a job until it is mined (slowing down when the relayer answers 429).
   * @throws RelayerError `JOB_FAILED` naming the relayer's reason, or `JOB_TIMEOUT` after `timeoutMs`
   */
  async waitForJob(id: string, options: WaitOptions = {}): Promise<RelayJob> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    const poll = options.pollMs ?? 250;
    for (;;) {
      let job: RelayJob;
      try {
        job = await this.job(id);
      } catch (error) {
        // Polling too fast for the relayer's read budget: slow down, within the deadline.
        if (!(error instanceof RelayerError) || error.status !== 429 || Date.now() + 1000 > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (job.status === "mined") return job;
      if (job.status === "failed") throw new RelayerError(200, "JOB_FAILED", `relay job ${id} failed: ${job.reason}`);
      if (Date.now() + poll > deadline) {
        throw new RelayerError(
          0,
          "JOB_TIMEOUT",
          `relay job ${id} still ${job.status} after ${options.timeoutMs ?? 120_000} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, poll));
    }
  }
}
