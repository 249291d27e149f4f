/**
 * The relayer's HTTP API, written once for both sides: the relayer service (relayer/) parses requests with these
 * schemas, the SDK's {@link RelayerClient} encodes them and parses the answers. JSON carries every integer as a
 * decimal string (bigints do not survive `JSON.stringify`). A quote is EIP-712 typed data signed by the relayer's
 * account, bound to the chain and the pool (the EIP-712 domain), the operation, the fee and an expiry.
 * See docs/relayer.md.
 */
import { verifyTypedData, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Groth16Proof } from "../../prover/index.ts";
import { z } from "zod";
import type { PoolExtData } from "../core/hash.ts";
import {
  CLOSE_PUBLIC_SIGNALS,
  LOCK_PUBLIC_SIGNALS,
  PAY_PUBLIC_SIGNALS,
  type ClosePublicSignals,
  type LockPublicSignals,
  type PayPublicSignals,
  type TransactPublicSignals,
} from "../proofs/publicSignals.ts";
import { address, apiErrorSchema, describeZodIssue, extData, groth16, signals, uint } from "./wire.ts";

export { toWire } from "./wire.ts";

/** What a relayer submits: `transact` (withdraw, merge, transfer), `pay`, `lock` and `close` (mode 0). */
export const RELAY_OPERATIONS = ["transact", "pay", "lock", "close"] as const;

/** One of {@link RELAY_OPERATIONS}. */
export type RelayOperation = (typeof RELAY_OPERATIONS)[number];

/** A fee offer for one operation, as the relayer signs it. */
export interface Quote {
  chainId: bigint;
  pool: string;
  operation: RelayOperation;
  /** Token base units the proof must pay the relayer, at least. */
  fee: bigint;
  /** The relayer's account: the ext data's `relayer`, the fee's receiver and the quote's signer. */
  relayer: string;
  /** Unix seconds after which the relayer refuses the quote. */
  expiry: bigint;
}

/** A {@link Quote} with the relayer's EIP-712 signature. */
export interface SignedQuote extends Quote {
  signature: string;
}

/** EIP-712 types of a quote (the domain carries the chain id and the pool as `verifyingContract`). */
export const QUOTE_TYPES: Record<string, TypedDataField[]> = {
  Quote: [
    { name: "operation", type: "string" },
    { name: "fee", type: "uint256" },
    { name: "relayer", type: "address" },
    { name: "expiry", type: "uint64" },
  ],
};

/** The EIP-712 domain of quotes for `pool` on `chainId`. */
export function quoteDomain(chainId: bigint, pool: string): TypedDataDomain {
  return { name: "zkcharge relayer", version: "1", chainId, verifyingContract: pool };
}

/** The typed-data message of a quote. */
export function quoteMessage(q: Quote): Record<string, unknown> {
  return { operation: q.operation, fee: q.fee, relayer: q.relayer, expiry: q.expiry };
}

/** The account that signed `q` (compare it with `q.relayer`); throws on a malformed signature. */
export function quoteSigner(q: SignedQuote): string {
  return verifyTypedData(quoteDomain(q.chainId, q.pool), QUOTE_TYPES, quoteMessage(q), q.signature);
}

/** The relayer's fee policy: `fee = baseFee + ceil(gasLimit[op] * gasPrice * tokenPerEth / 1e18) * (100 + marginPercent) / 100`. */
export interface FeePolicy {
  /** Token base units charged on top of gas. */
  baseFee: bigint;
  /** Token base units per 1 ETH (the relayer's exchange rate). */
  tokenPerEth: bigint;
  /** Margin on the gas cost, percent. */
  marginPercent: bigint;
  /** Gas each operation is priced at. */
  gasLimit: Record<RelayOperation, bigint>;
  /** Seconds a quote stays valid. */
  quoteTtlSeconds: bigint;
}

/** What `GET /details` answers. */
export interface RelayerDetails {
  chainId: bigint;
  pool: string;
  relayer: string;
  operations: RelayOperation[];
  feePolicy: FeePolicy;
  /** The fee each operation would be quoted at now (the max fee per gas the quote prices with). */
  gasPriceWei: bigint;
}

/** Named public signals and ext data of each relayed operation; `proof` is the snarkjs proof the relayer verifies. */
export type RelayRequest = (
  | { operation: "transact"; publicSignals: TransactPublicSignals; extData: PoolExtData; fee: bigint }
  | { operation: "pay"; publicSignals: PayPublicSignals; extData: PoolExtData }
  | { operation: "lock"; publicSignals: LockPublicSignals; extData: PoolExtData }
  | { operation: "close"; publicSignals: ClosePublicSignals; extData: PoolExtData; escrowId: bigint }
) & { proof: Groth16Proof; quote: SignedQuote };

/** Status of a relay job: persisted, broadcast, in a block (status 1), or failed (reason given). */
export type JobStatus = "queued" | "sent" | "mined" | "failed";

/** What `GET /jobs/:id` answers. */
export interface RelayJob {
  id: string;
  operation: RelayOperation;
  status: JobStatus;
  /** Why the job failed (status `failed`). */
  reason?: string;
  /** Every transaction signed for this job, oldest first: one per fee bump, all with the same nonce. */
  txHashes: string[];
  /** The transaction that was mined (status `mined`, or `failed` when it reverted on-chain). */
  txHash?: string;
  blockNumber?: number;
  nonce?: number;
  createdAt: number;
  updatedAt: number;
}

/** What `POST /relay` answers: the job, and whether it already existed (same nullifier or proof). */
export interface RelayAccepted {
  id: string;
  status: JobStatus;
  existing: boolean;
}

/** An error answer: a stable code and a message naming the cause. */
export interface RelayErrorBody {
  error: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------- wire schemas

const operation = z.enum(RELAY_OPERATIONS);

/** A signed quote as JSON. */
export const signedQuoteSchema = z
  .object({
    chainId: uint,
    pool: address,
    operation,
    fee: uint,
    relayer: address,
    expiry: uint,
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature"),
  })
  .strict();

const common = { proof: groth16, quote: signedQuoteSchema, extData };

/** `POST /relay`'s body. */
export const relayRequestSchema = z.discriminatedUnion("operation", [
  z
    .object({
      operation: z.literal("transact"),
      publicSignals: z
        .object({
          noteRoot: uint,
          noteTreeSize: uint,
          inputNullifiers: z.tuple([uint, uint]),
          outputCommitments: z.tuple([uint, uint]),
          publicAmount: uint,
          extDataHash: uint,
        })
        .strict(),
      fee: uint,
      ...common,
    })
    .strict(),
  z.object({ operation: z.literal("pay"), publicSignals: signals(PAY_PUBLIC_SIGNALS), ...common }).strict(),
  z.object({ operation: z.literal("lock"), publicSignals: signals(LOCK_PUBLIC_SIGNALS), ...common }).strict(),
  z
    .object({
      operation: z.literal("close"),
      publicSignals: signals(CLOSE_PUBLIC_SIGNALS),
      escrowId: uint,
      ...common,
    })
    .strict(),
]);

/** `POST /quote`'s body. */
export const quoteRequestSchema = z.object({ operation }).strict();

const feePolicySchema = z.object({
  baseFee: uint,
  tokenPerEth: uint,
  marginPercent: uint,
  gasLimit: z.object(Object.fromEntries(RELAY_OPERATIONS.map((o) => [o, uint])) as Record<RelayOperation, typeof uint>),
  quoteTtlSeconds: uint,
});

/** `GET /details`' answer. */
export const detailsSchema = z.object({
  chainId: uint,
  pool: address,
  relayer: address,
  operations: z.array(operation),
  feePolicy: feePolicySchema,
  gasPriceWei: uint,
});

/** `GET /jobs/:id`' answer. */
export const jobSchema = z.object({
  id: z.string(),
  operation,
  status: z.enum(["queued", "sent", "mined", "failed"]),
  reason: z.string().optional(),
  txHashes: z.array(z.string()),
  txHash: z.string().optional(),
  blockNumber: z.number().int().optional(),
  nonce: z.number().int().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

/** `POST /relay`'s answer. */
export const acceptedSchema = z.object({
  id: z.string(),
  status: z.enum(["queued", "sent", "mined", "failed"]),
  existing: z.boolean(),
});

/** An error answer (the one form every zkcharge API uses, wire.ts). */
export const errorSchema = apiErrorSchema;

/** The first problem zod found in a relayer request, as `path: message`. */
export function describeZodError(error: z.ZodError): string {
  if (error.issues[0]?.code === "invalid_union_discriminator") {
    return `operation: must be one of ${RELAY_OPERATIONS.join(", ")}`;
  }
  return describeZodIssue(error);
}
