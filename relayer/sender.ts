/**
 * Sends the stored jobs and sees them mined: one loop, so nonces are handed out in order.
 *
 * For a queued job without a transaction: re-simulate (state may have moved while it queued), take the next nonce,
 * sign, **store the raw transaction**, then broadcast. For a job with transactions: look for a receipt of any of
 * them; none after `bumpAfterMs` → sign the same call with the same nonce and fees raised by `bumpPercent`, store,
 * broadcast (at most `maxBumps` times). After a restart every live job's latest stored transaction is broadcast
 * again, byte for byte: a node that has it answers "known", one that lost it takes it back, and since every
 * replacement has the same nonce at most one of them is ever mined. A mined job stays watched while its block is
 * within `reorgDepth` of the head: if a reorganisation drops its transaction, the job is `sent` again and its stored
 * transaction re-broadcast (a node does not put a dropped block's transactions back in its pool by itself).
 */
import { Transaction, type JsonRpcProvider, type Signer } from "ethers";
import { decodeRevert } from "../sdk/index.ts";
import type { Job, JobStore } from "./store.ts";

/** Options of {@link Sender}. */
export interface SenderOptions {
  /** Loop period, ms (default 500). */
  pollMs?: number;
  /** A transaction with no receipt for this long is re-sent with higher fees, ms (default 30 000). */
  bumpAfterMs?: number;
  /** Fee increase per bump, percent (default 25; nodes want at least 10 to replace). */
  bumpPercent?: bigint;
  /** Bumps per job at most (default 5). */
  maxBumps?: number;
  /** Blocks a mined job stays watched for a reorganisation (default 12). */
  reorgDepth?: number;
  log?: (message: string) => void;
}

/** A JSON-RPC error answer (the node refused), as opposed to a transport failure (retry later). */
function rpcRefusal(error: unknown): string | undefined {
  const e = error as { error?: { message?: unknown }; info?: { error?: { message?: unknown } } };
  const message = e.error?.message ?? e.info?.error?.message;
  return typeof message === "string" ? message : undefined;
}

/** The loop that signs, broadcasts, tracks and bumps the relayer's transactions. */
export class Sender {
  readonly #store: JobStore;
  readonly #signer: Signer;
  readonly #address: string;
  readonly #provider: JsonRpcProvider;
  readonly #chainId: bigint;
  readonly #opts: Required<Omit<SenderOptions, "log">> & Pick<SenderOptions, "log">;
  /** Jobs whose latest transaction this process broadcast (others are re-broadcast, e.g. after a restart). */
  readonly #broadcast = new Set<string>();
  /** Ticks a job's nonce has been used on-chain without a receipt of ours (receipts may lag a block). */
  readonly #foreign = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    store: JobStore,
    signer: Signer,
    address: string,
    provider: JsonRpcProvider,
    chainId: bigint,
    opts: SenderOptions = {},
  ) {
    this.#store = store;
    this.#signer = signer;
    this.#address = address;
    this.#provider = provider;
    this.#chainId = chainId;
    this.#opts = {
      pollMs: opts.pollMs ?? 500,
      bumpAfterMs: opts.bumpAfterMs ?? 30_000,
      bumpPercent: opts.bumpPercent ?? 25n,
      maxBumps: opts.maxBumps ?? 5,
      reorgDepth: opts.reorgDepth ?? 12,
      log: opts.log,
    };
  }

  /** Starts the loop. */
  start(): void {
    this.#schedule(0);
  }

  /** Runs the loop now (a job was stored). */
  wake(): void {
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** Stops the loop after the current pass. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = this.#pass()
      .catch((error: unknown) => this.#opts.log?.(`sender: ${(error as Error).message}`))
      .finally(() => {
        this.#running = undefined;
        const again = this.#again;
        this.#again = false;
        this.#schedule(again ? 0 : this.#opts.pollMs);
      });
    await this.#running;
  }

  async #pass(): Promise<void> {
    for (const job of await this.#store.live()) {
      if (this.#stopped) return;
      if (job.attempts.length === 0) await this.#first(job);
      else await this.#track(job);
    }
    await this.#watchMined();
  }

  /** Mined jobs still within reach of a reorganisation: each receipt must still be there. */
  async #watchMined(): Promise<void> {
    const head = await this.#provider.getBlockNumber();
    for (const job of await this.#store.minedSince(head - this.#opts.reorgDepth)) {
      if (this.#stopped) return;
      const receipt = await this.#provider.getTransactionReceipt(job.minedHash!);
      if (receipt?.blockNumber === job.blockNumber) continue;
      if (receipt) {
        await this.#store.markMined(job.id, job.minedHash!, receipt.blockNumber); // re-included in another block
        continue;
      }
      await this.#store.markReorged(job.id);
      this.#broadcast.delete(job.id);
      this.#opts.log?.(`job ${job.id}: block ${job.blockNumber} was reorganised away; sending it again`);
    }
  }

  async #nextNonce(): Promise<number> {
    const [chain, stored] = await Promise.all([
      this.#provider.getTransactionCount(this.#address, "pending"),
      this.#store.maxNonce(),
    ]);
    return Math.max(chain, stored === undefined ? 0 : stored + 1);
  }

  /** Re-simulates, signs with the next nonce, stores, broadcasts. */
  async #first(job: Job): Promise<void> {
    try {
      await this.#provider.estimateGas({ from: this.#address, to: job.to, data: job.data });
    } catch (error) {
      const revert = decodeRevert(error);
      if (!revert) throw error; // the node is unwell: try again next pass
      await this.#store.markFailed(job.id, `would revert by the time it was sent: ${revert.text}`, { nonceFree: true });
      this.#opts.log?.(`job ${job.id} failed before sending: ${revert.text}`);
      return;
    }
    const nonce = await this.#nextNonce();
    const fees = await this.#provider.getFeeData();
    const maxFeePerGas = fees.maxFeePerGas ?? fees.gasPrice ?? 1_000_000_000n;
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 0n;
    await this.#sign(job, nonce, maxFeePerGas, maxPriorityFeePerGas);
  }

  async #sign(job: Job, nonce: number, maxFeePerGas: bigint, maxPriorityFeePerGas: bigint): Promise<void> {
    const raw = await this.#signer.signTransaction({
      type: 2,
      chainId: this.#chainId,
      nonce,
      to: job.to,
      data: job.data,
      gasLimit: job.gasLimit,
      maxFeePerGas,
      maxPriorityFeePerGas,
      value: 0n,
    });
    const hash = Transaction.from(raw).hash!;
    // Stored before it leaves: a relayer killed after this line broadcasts these very bytes when it restarts.
    await this.#store.addAttempt(job.id, nonce, {
      hash,
      raw,
      maxFeePerGas,
      maxPriorityFeePerGas,
      signedAt: Date.now(),
    });
    this.#broadcast.delete(job.id);
    this.#opts.log?.(`job ${job.id}: signed ${hash} (nonce ${nonce}, max fee ${maxFeePerGas} wei/gas)`);
    await this.#send(job.id, raw, job.attempts.length === 0);
  }

  /** Broadcasts `raw`; `first`: no transaction of this job reached a node before. */
  async #send(id: string, raw: string, first: boolean): Promise<void> {
    try {
      await this.#provider.send("eth_sendRawTransaction", [raw]);
    } catch (error) {
      const refusal = rpcRefusal(error);
      if (refusal === undefined) {
        this.#opts.log?.(`job ${id}: broadcast failed (${(error as Error).message}); retrying`);
        return; // transport failure: broadcast again next pass
      }
      // The node has it already, or a transaction with this nonce is mined or pending: the receipts decide.
      if (!/known|already|nonce too low|underpriced|replacement/i.test(refusal)) {
        if (first) {
          await this.#store.markFailed(id, `the node refused the transaction: ${refusal}`, { nonceFree: true });
          this.#opts.log?.(`job ${id} failed: the node refused it: ${refusal}`);
          return;
        }
        this.#opts.log?.(`job ${id}: the node refused a fee bump (${refusal}); the earlier transaction stands`);
      }
    }
    this.#broadcast.add(id);
    await this.#store.markSent(id);
  }

  async #track(job: Job): Promise<void> {
    for (const attempt of [...job.attempts].reverse()) {
      const receipt = await this.#provider.getTransactionReceipt(attempt.hash);
      if (!receipt) continue;
      if (receipt.status === 1) {
        await this.#store.markMined(job.id, attempt.hash, receipt.blockNumber);
        this.#opts.log?.(`job ${job.id}: mined ${attempt.hash} in block ${receipt.blockNumber}`);
      } else {
        await this.#store.markFailed(job.id, `reverted on-chain in block ${receipt.blockNumber}`, {
          hash: attempt.hash,
          blockNumber: receipt.blockNumber,
        });
      }
      this.#foreign.delete(job.id);
      return;
    }
    const latest = job.attempts.at(-1)!;
    if (!this.#broadcast.has(job.id)) {
      this.#opts.log?.(`job ${job.id}: re-broadcasting its stored transaction ${latest.hash}`);
      await this.#send(job.id, latest.raw, false);
      return;
    }
    const mined = await this.#provider.getTransactionCount(this.#address, "latest");
    if (job.nonce !== undefined && mined > job.nonce) {
      const misses = (this.#foreign.get(job.id) ?? 0) + 1;
      this.#foreign.set(job.id, misses);
      if (misses >= 3) {
        await this.#store.markFailed(job.id, `nonce ${job.nonce} was used by a transaction this relayer did not sign`);
        this.#foreign.delete(job.id);
      }
      return;
    }
    const bumps = job.attempts.length - 1;
    if (Date.now() - latest.signedAt >= this.#opts.bumpAfterMs && bumps < this.#opts.maxBumps) {
      const up = (v: bigint) => (v * (100n + this.#opts.bumpPercent)) / 100n + 1n;
      const fees = await this.#provider.getFeeData();
      const maxFee = up(latest.maxFeePerGas);
      const priority = up(latest.maxPriorityFeePerGas);
      const current = fees.maxFeePerGas ?? 0n;
      this.#opts.log?.(
        `job ${job.id}: no receipt after ${this.#opts.bumpAfterMs} ms; bumping fees (bump ${bumps + 1})`,
      );
      await this.#sign(job, job.nonce!, maxFee > current ? maxFee : current, priority);
    }
  }
}
