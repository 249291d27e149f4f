/**
 * Everything the relayer checks before it stores or sends a job, in this order (docs/relayer.md):
 *
 * 1. the quote: for this operation, chain, pool and relayer, signed by the relayer's own account, not expired;
 * 2. the fee: the ext data names this relayer, and the fee the proof binds is at least the quote's (and a transact
 *    moves no tokens in: those would come from the relayer's account);
 * 3. the ext data hashes to the proof's `extDataHash` (the SDK's `extDataHash`);
 * 4. on-chain state: the note root is known at its tree size, the nullifiers unspent (a close: its escrow open,
 *    with the terms the proof uses, and mode 0, which anyone may submit);
 * 5. the Groth16 proof verifies locally (the SDK's `verify*`);
 * 6. an `eth_estimateGas` of the exact transaction from the relayer's account, its revert decoded
 *    (`decodeRevert`).
 *
 * Steps 1-3 need no chain ({@link checkOffline}), 4-6 do ({@link checkOnChain}). Before step 1 the service looks
 * the nullifiers up in its job store, so a proof it already has returns its job instead of an error.
 */
import { getAddress, type Provider } from "ethers";
import {
  FIELD_MODULUS,
  decodeRevert,
  extDataHash,
  formatCalldata,
  quoteSigner,
  readEscrow,
  verifyClose,
  verifyLock,
  verifyPay,
  verifyTransact,
  EscrowStatus,
  type Pool,
  type ProverOptions,
  type RelayRequest,
} from "../sdk/index.ts";

/** A request the relayer refuses: HTTP status, a stable code and a message naming the cause. */
export class RelayRejected extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "RelayRejected";
    this.status = status;
    this.code = code;
  }
}

/** What the checks need: who the relayer is, and where. */
export interface CheckContext {
  chainId: bigint;
  /** The pool's checksummed address. */
  poolAddress: string;
  /** The relayer's checksummed address. */
  relayer: string;
  /** The pool, connected to the relayer's provider (reads only). */
  pool: Pool;
  provider: Provider;
  prover?: ProverOptions;
  /** Unix seconds now (injectable for tests of expiry; default: the wall clock). */
  now?: () => bigint;
}

/** A checked request: the keys it spends and the exact call to send. */
export interface PreparedCall {
  keys: string[];
  to: string;
  data: string;
  /** The estimate with headroom. */
  gasLimit: bigint;
}

/** The nullifier keys a request spends (one live job per key): nullifiers, or `escrow:<id>` for a close. */
export function keysOf(req: RelayRequest): string[] {
  switch (req.operation) {
    case "transact":
      return req.publicSignals.inputNullifiers.map((n) => `nullifier:${n}`);
    case "pay":
    case "lock":
      return [`nullifier:${req.publicSignals.nullifier}`];
    case "close":
      return [`escrow:${req.escrowId}`];
  }
}

/** The fee the proof binds (a close pays none). */
function feeOf(req: RelayRequest): bigint {
  switch (req.operation) {
    case "transact":
      return req.fee;
    case "pay":
    case "lock":
      return req.publicSignals.fee;
    case "close":
      return 0n;
  }
}

/** Checks 1-3 (quote, fee, ext data hash): nothing on-chain. */
export function checkOffline(ctx: CheckContext, req: RelayRequest): void {
  const q = req.quote;
  const now = (ctx.now ?? (() => BigInt(Math.floor(Date.now() / 1000))))();
  if (q.operation !== req.operation) {
    throw new RelayRejected(400, "QUOTE_MISMATCH", `the quote is for ${q.operation}, the request is ${req.operation}`);
  }
  if (q.chainId !== ctx.chainId || getAddress(q.pool) !== ctx.poolAddress) {
    throw new RelayRejected(
      400,
      "QUOTE_MISMATCH",
      `the quote is for pool ${q.pool} on chain ${q.chainId}; this relayer serves ${ctx.poolAddress} on chain ${ctx.chainId}`,
    );
  }
  let signer: string;
  try {
    signer = quoteSigner(q);
  } catch {
    throw new RelayRejected(400, "QUOTE_SIGNATURE", "the quote's signature does not recover to any account");
  }
  if (getAddress(signer) !== ctx.relayer || getAddress(q.relayer) !== ctx.relayer) {
    throw new RelayRejected(
      400,
      "QUOTE_SIGNATURE",
      `the quote is signed by ${signer} for relayer ${q.relayer}, not by this relayer (${ctx.relayer})`,
    );
  }
  if (q.expiry <= now) {
    throw new RelayRejected(
      400,
      "QUOTE_EXPIRED",
      `the quote expired at ${q.expiry} (now ${now}): ask POST /quote again`,
    );
  }

  if (req.operation === "transact" && req.extData.extAmount > 0n) {
    throw new RelayRejected(
      400,
      "DEPOSIT_NOT_RELAYED",
      "a transact with extAmount > 0 pulls the tokens from its submitter: send top-ups yourself",
    );
  }
  const fee = feeOf(req);
  if (req.operation !== "close" && getAddress(req.extData.relayer) !== ctx.relayer) {
    throw new RelayRejected(
      400,
      "WRONG_RELAYER",
      `the ext data pays the fee to ${req.extData.relayer}, not to this relayer (${ctx.relayer})`,
    );
  }
  if (fee < q.fee) {
    throw new RelayRejected(400, "FEE_BELOW_QUOTE", `the proof pays a fee of ${fee}, below the quoted ${q.fee}`);
  }
  if (req.operation === "transact") {
    const expected = (((req.extData.extAmount - req.fee) % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
    if (req.publicSignals.publicAmount !== expected) {
      throw new RelayRejected(
        400,
        "FEE_MISMATCH",
        `publicAmount ${req.publicSignals.publicAmount} is not (extAmount - fee) mod r = ${expected}: the fee is not the proof's`,
      );
    }
  }
  const hash = extDataHash({ chainId: ctx.chainId, pool: ctx.poolAddress, ...req.extData });
  if (hash !== req.publicSignals.extDataHash) {
    throw new RelayRejected(
      400,
      "EXT_DATA_MISMATCH",
      "the ext data does not hash to the proof's extDataHash (recipient, relayer, amount or outputs differ from what was proved)",
    );
  }
}

/** Checks 4-6 (chain state, Groth16, eth_estimateGas); returns the exact call. */
export async function checkOnChain(ctx: CheckContext, req: RelayRequest): Promise<PreparedCall> {
  const { pool } = ctx;
  if (req.operation === "close") {
    const escrow = await readEscrow(pool, req.escrowId);
    if (escrow.status !== EscrowStatus.Open) {
      throw new RelayRejected(
        409,
        "ESCROW_NOT_OPEN",
        `escrow ${req.escrowId} is ${EscrowStatus[escrow.status]}, not open`,
      );
    }
    const s = req.publicSignals;
    if (
      s.refundPrecommitment !== escrow.refundPrecommitment ||
      s.cap !== escrow.cap ||
      s.cpoId !== escrow.cpoId ||
      s.sessionId !== escrow.sessionId
    ) {
      throw new RelayRejected(400, "ESCROW_MISMATCH", `the proof's escrow terms are not escrow ${req.escrowId}'s`);
    }
    if (s.mode !== 0n) {
      throw new RelayRejected(400, "CLOSE_MODE", "a live-tail close (mode 1) can only be sent by the CPO's admin");
    }
  } else {
    const s = req.publicSignals;
    if (!(await pool.isKnownRoot(s.noteRoot, s.noteTreeSize))) {
      throw new RelayRejected(
        409,
        "UNKNOWN_ROOT",
        `note root ${s.noteRoot} at tree size ${s.noteTreeSize} is not a known recent root of the pool: sync and prove again`,
      );
    }
    const nullifiers = req.operation === "transact" ? req.publicSignals.inputNullifiers : [req.publicSignals.nullifier];
    for (const n of nullifiers) {
      if (await pool.nullifierSpent(n)) {
        throw new RelayRejected(409, "NULLIFIER_SPENT", `nullifier ${n} is already spent on-chain`);
      }
    }
  }

  const valid = await (async () => {
    try {
      switch (req.operation) {
        case "transact":
          return await verifyTransact({ proof: req.proof, publicSignals: req.publicSignals }, ctx.prover);
        case "pay":
          return await verifyPay({ proof: req.proof, publicSignals: req.publicSignals }, ctx.prover);
        case "lock":
          return await verifyLock({ proof: req.proof, publicSignals: req.publicSignals }, ctx.prover);
        case "close":
          return await verifyClose({ proof: req.proof, publicSignals: req.publicSignals }, ctx.prover);
      }
    } catch {
      return false; // points off the curve and the like: not a proof
    }
  })();
  if (!valid) {
    throw new RelayRejected(
      400,
      "INVALID_PROOF",
      `the ${req.operation} proof does not verify for these public signals`,
    );
  }

  const data = encodeCall(pool, req);
  const to = ctx.poolAddress;
  let estimate: bigint;
  try {
    estimate = await ctx.provider.estimateGas({ from: ctx.relayer, to, data });
  } catch (error) {
    const revert = decodeRevert(error);
    if (revert) throw new RelayRejected(409, "WOULD_REVERT", `the ${req.operation} would revert: ${revert.text}`);
    throw new RelayRejected(502, "SIMULATION_FAILED", `eth_estimateGas failed: ${(error as Error).message}`);
  }
  return { keys: keysOf(req), to, data, gasLimit: (estimate * 125n) / 100n };
}

/** The pool call a request makes, ABI-encoded (the proof points formatted from the verified snarkjs proof). */
export function encodeCall(pool: Pool, req: RelayRequest): string {
  const proof = formatCalldata(req.proof);
  const iface = pool.interface;
  switch (req.operation) {
    case "transact":
      return iface.encodeFunctionData("transact", [proof, req.publicSignals, req.extData, req.fee]);
    case "pay":
      return iface.encodeFunctionData("pay", [proof, req.publicSignals, req.extData]);
    case "lock":
      return iface.encodeFunctionData("lock", [proof, req.publicSignals, req.extData]);
    case "close": {
      // The escrow's own terms (the first four signals) come from storage, not from the caller.
      const { mode, meterRoot, tariffHash, amount, refundCommitment, extDataHash: ext } = req.publicSignals;
      const pub = { mode, meterRoot, tariffHash, amount, refundCommitment, extDataHash: ext };
      return iface.encodeFunctionData("close", [req.escrowId, proof, pub, req.extData]);
    }
  }
}
