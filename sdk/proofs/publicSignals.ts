/**
 * The public-signal order of each circuit, written once for TypeScript (the circuits declare it in
 * circuits/circuits.json, the contracts in contracts/libraries/ProofLib.sol; test/circuits/artifacts.test.ts
 * checks TypeScript against circuits.json and the manifest, and every on-chain proof checks Solidity against both).
 */

/** Public inputs of the pay circuit, in order. */
export const PAY_PUBLIC_SIGNALS = [
  "noteRoot",
  "noteTreeSize",
  "nullifier",
  "changeCommitment",
  "meterRoot",
  "cpoId",
  "tariffHash",
  "sessionId",
  "amount",
  "fee",
  "extDataHash",
] as const;

/** Public inputs of the transact circuit, in order (arrays flattened). */
export const TRANSACT_PUBLIC_SIGNALS = [
  "noteRoot",
  "noteTreeSize",
  "inputNullifier[0]",
  "inputNullifier[1]",
  "outputCommitment[0]",
  "outputCommitment[1]",
  "publicAmount",
  "extDataHash",
] as const;

/** Public inputs of the lock circuit, in order. */
export const LOCK_PUBLIC_SIGNALS = [
  "noteRoot",
  "noteTreeSize",
  "nullifier",
  "changeCommitment",
  "refundPrecommitment",
  "cap",
  "fee",
  "cpoId",
  "sessionId",
  "settleDeadline",
  "claimDeadline",
  "extDataHash",
] as const;

/** Public inputs of the close circuit, in order (the first four are the escrow's). */
export const CLOSE_PUBLIC_SIGNALS = [
  "refundPrecommitment",
  "cap",
  "cpoId",
  "sessionId",
  "meterRoot",
  "tariffHash",
  "mode",
  "amount",
  "refundCommitment",
  "extDataHash",
] as const;

/** Named public signals of a lock proof. */
export type LockPublicSignals = Record<(typeof LOCK_PUBLIC_SIGNALS)[number], bigint>;

/** Named public signals of a close proof. */
export type ClosePublicSignals = Record<(typeof CLOSE_PUBLIC_SIGNALS)[number], bigint>;

/** Named public signals of a pay proof. */
export type PayPublicSignals = Record<(typeof PAY_PUBLIC_SIGNALS)[number], bigint>;

/** Named public signals of a transact proof. */
export interface TransactPublicSignals {
  noteRoot: bigint;
  noteTreeSize: bigint;
  inputNullifiers: [bigint, bigint];
  outputCommitments: [bigint, bigint];
  publicAmount: bigint;
  extDataHash: bigint;
}

/** Pay signals as the ordered array the verifier takes. */
export function paySignalArray(s: PayPublicSignals): bigint[] {
  return PAY_PUBLIC_SIGNALS.map((name) => s[name]);
}

/** Lock signals as the ordered array the verifier takes. */
export function lockSignalArray(s: LockPublicSignals): bigint[] {
  return LOCK_PUBLIC_SIGNALS.map((name) => s[name]);
}

/** Close signals as the ordered array the verifier takes. */
export function closeSignalArray(s: ClosePublicSignals): bigint[] {
  return CLOSE_PUBLIC_SIGNALS.map((name) => s[name]);
}

/** Transact signals as the ordered array the verifier takes. */
export function transactSignalArray(s: TransactPublicSignals): bigint[] {
  return [s.noteRoot, s.noteTreeSize, ...s.inputNullifiers, ...s.outputCommitments, s.publicAmount, s.extDataHash];
}
