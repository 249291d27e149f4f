/**
 * Escrowed sessions (a card-style pre-authorisation without revealing the driver): reading escrows
 * from the pool, and proving a close from the meter's signed readings. Lock, refund and the wallet
 * side live in driver.ts; the CPO's checks in operator.ts.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { ZeroAddress } from "ethers";
import type { EscrowTerms } from "../proofs/closeInput.ts";
import { proveClose } from "../proofs/close.ts";
import type { Groth16Proof, ProverOptions, SolidityCalldata } from "../../prover/index.ts";
import type { ClosePublicSignals } from "../proofs/publicSignals.ts";
import type { SessionRecord } from "../proofs/sessionInput.ts";
import type { Pool } from "../../types/ethers-contracts/index.js";
import { extDataHash, type PoolExtData } from "../core/hash.ts";
import { sendAndWait } from "./revert.ts";
import type { Bill } from "../tariff/tariff.ts";
import type { MerklePath } from "../core/tree.ts";

/** Escrow status as the pool stores it. */
export enum EscrowStatus {
  None = 0,
  Open = 1,
  Closed = 2,
  Refunded = 3,
}

/** An escrow as the pool stores it. */
export interface Escrow extends EscrowTerms {
  escrowId: bigint;
  settleDeadline: bigint;
  claimDeadline: bigint;
  status: EscrowStatus;
}

/** A proved close, for the CPO (or, with the session-end record, anyone) to submit. */
export interface Closing {
  escrowId: bigint;
  proof: SolidityCalldata;
  groth16: Groth16Proof;
  pub: ClosePublicSignals;
  ext: PoolExtData;
  bill: Bill;
  proveMs: number;
}

/** Reads escrow `escrowId` from the pool's storage. */
export async function readEscrow(pool: Pool, escrowId: bigint): Promise<Escrow> {
  const e = await pool.escrow(escrowId);
  return {
    escrowId,
    refundPrecommitment: e.refundPrecommitment,
    cap: e.cap,
    cpoId: e.cpoId,
    sessionId: e.sessionId,
    settleDeadline: e.settleDeadline,
    claimDeadline: e.claimDeadline,
    status: Number(e.status) as EscrowStatus,
  };
}

/**
 * Proves the close of `escrowId` from a finished session (mode 0) or live evidence (mode 1), taking
 * the escrow's terms from the chain. Nothing secret is needed.
 */
export async function prepareClose(
  pool: Pool,
  escrowId: bigint,
  record: SessionRecord,
  meterPath: MerklePath,
  prover: ProverOptions = {},
): Promise<Closing> {
  const escrow = await readEscrow(pool, escrowId);
  const ext = {
    recipient: ZeroAddress,
    relayer: ZeroAddress,
    extAmount: 0n,
    encryptedOutput1: "0x",
    encryptedOutput2: "0x",
  };
  const { chainId } = await pool.runner!.provider!.getNetwork();
  const proved = await proveClose(
    {
      escrow,
      record,
      meterPath,
      extDataHash: extDataHash({ chainId, pool: await pool.getAddress(), ...ext }),
    },
    prover,
  );
  return {
    escrowId,
    proof: proved.calldata,
    groth16: proved.proof,
    pub: proved.publicSignals,
    ext,
    bill: proved.bill,
    proveMs: proved.timings.proveMs,
  };
}

/** Submits a proved close from `submitter` (the CPO admin for a live-tail close). */
export async function submitClose(
  pool: Pool,
  closing: Closing,
  submitter: Signer,
): Promise<ContractTransactionReceipt> {
  // The escrow's own terms (the first four signals) come from storage, not from the caller.
  const { mode, meterRoot, tariffHash, amount, refundCommitment, extDataHash: extHash } = closing.pub;
  const pub = { mode, meterRoot, tariffHash, amount, refundCommitment, extDataHash: extHash };
  return sendAndWait("close", () => pool.connect(submitter).close(closing.escrowId, closing.proof, pub, closing.ext));
}
