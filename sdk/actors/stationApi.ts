/**
 * The station service's driver API (station/, docs/live.md), written once for both sides: the station parses
 * requests with these schemas, the SDK's station client and the driver's wallet parse the answers with them.
 * Integers travel as decimal strings, as in the relayer's API (wire.ts).
 *
 * The flow, all under `/api/v1`:
 * 1. `GET /station`: who runs it (cpoId, chain, pool, registry), its escrow policy and its chargers.
 * 2. `GET /chargers/:chargerId/offer`: the terms of a session at that charger (tariff fixed at plug-in, the
 *    meter's key, rating and leaf) and a fresh one-time station nonce.
 * 3. The driver picks its nonce, `sessionId = H(TAG_SESSION, stationNonce, driverNonce)`, locks an escrow for
 *    it (through a relayer), then `POST /sessions` with both nonces and the escrow id. The station checks the
 *    escrow on-chain (open, this CPO, this session, the session's only escrow, cap and settle time at least its
 *    policy's) before it asks the charger to start, and answers a bearer token for this session.
 * 4. `GET /sessions/:id/live` (WebSocket, `?from=<seqNo>`, token as `?token=` or bearer): every signed reading
 *    as it is stored, with the running bill; state changes; the close.
 * 5. `POST /sessions/:id/stop`; `GET /sessions/:id/readings?from=<seqNo>` (every stored reading, the session
 *    end included once it arrived: the session-end record); `GET /sessions/:id` (status).
 * 6. `POST /sessions/:id/close`: the driver's close proof (mode 0, from the session end), which the station
 *    verifies locally and against its own record of the session before it submits it.
 *
 * Errors: HTTP 4xx / 5xx with {@link StationErrorBody}; `code` names the cause (e.g. `ESCROW_REJECTED`).
 */
import { z } from "zod";
import { CLOSE_PUBLIC_SIGNALS } from "../proofs/publicSignals.ts";
import { address, apiErrorSchema, extData, groth16, signals, uint } from "./wire.ts";

/** Path prefix of every driver API route. */
export const STATION_API_PREFIX = "/api/v1";

/** Session states as the station reports them. */
export const STATION_SESSION_STATES = [
  /** Escrow checked, the charger asked to start. */
  "requested",
  /** The charger's start point arrived: charging. */
  "open",
  /** The session-end record arrived. */
  "ended",
  /** The escrow was closed on-chain (by the driver's proof or by the station itself). */
  "closed",
  /** The charger refused to start. */
  "rejected",
] as const;

/** One of {@link STATION_SESSION_STATES}. */
export type StationSessionState = (typeof STATION_SESSION_STATES)[number];

const decimalString = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "must be a decimal string");
const signedMeterValueSchema = z
  .object({
    signedMeterData: z.string().max(2500),
    signingMethod: z.string().max(50),
    encodingMethod: z.string().max(50),
    publicKey: z.string().max(2500),
  })
  .strict();
const state = z.enum(STATION_SESSION_STATES);

/** `GET /station`. */
export const stationInfoSchema = z.object({
  name: z.string(),
  cpoId: uint,
  chainId: uint,
  pool: address,
  registry: address,
  /** The smallest escrow cap the station accepts, token base units. */
  minCap: uint,
  /** The least time left before the escrow's settle deadline at start, seconds. */
  minSecondsToSettle: uint,
  chargers: z.array(
    z.object({
      chargerId: z.string(),
      connected: z.boolean(),
      /** The last OCPP connector status (`Available`, `Occupied`...), if any. */
      status: z.string().optional(),
      ratedPowerW: uint,
    }),
  ),
});

/** `GET /chargers/:chargerId/offer`. */
export const offerSchema = z.object({
  chargerId: z.string(),
  cpoId: uint,
  /** The tariff fixed at plug-in, as `tariffToJson` writes it (parse with `tariffFromJson`). */
  tariff: z.record(z.string(), z.union([decimalString, z.array(decimalString), z.record(z.string(), decimalString)])),
  tariffHash: uint,
  meterPublicKey: z.tuple([uint, uint]),
  ratedPowerW: uint,
  meterLeaf: uint,
  /** One-time, expires at `expiresAt` (unix ms). */
  stationNonce: uint,
  expiresAt: z.number().int(),
  minCap: uint,
  minSecondsToSettle: uint,
});

/** `POST /sessions`' body. */
export const startRequestSchema = z
  .object({
    chargerId: z.string().max(64),
    stationNonce: uint,
    driverNonce: uint,
    escrowId: uint,
  })
  .strict();

/** `POST /sessions`' answer. */
export const startAnswerSchema = z.object({
  sessionId: uint,
  /** Bearer token for this session's routes. */
  token: z.string(),
  state,
});

/** A stored signed reading as the station serves it. */
export const stationReadingSchema = z.object({
  seqNo: z.number().int().nonnegative(),
  signedMeterValue: signedMeterValueSchema,
  /** When the station stored it, unix ms. */
  receivedAt: z.number(),
});

/** `GET /sessions/:id`. */
export const sessionStatusSchema = z.object({
  sessionId: uint,
  chargerId: z.string(),
  state,
  escrowId: uint,
  cap: uint,
  settleDeadline: uint,
  readings: z.number().int().nonnegative(),
  /** The running bill (the session end's once it ended), token base units. */
  bill: uint.optional(),
  /** Why the station stopped the session by itself (cap, a refused reading), if it did. */
  stoppedBy: z.string().optional(),
  closeTx: z.string().optional(),
});

/** `GET /sessions/:id/readings`. */
export const readingsAnswerSchema = z.object({ readings: z.array(stationReadingSchema), state });

/** A message on `GET /sessions/:id/live`. */
export const liveMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("reading"), reading: stationReadingSchema, bill: uint }),
  z.object({ type: z.literal("state"), state, reason: z.string().optional() }),
  z.object({ type: z.literal("closed"), txHash: z.string(), amount: uint, refund: uint }),
]);

/** `POST /sessions/:id/stop`'s answer. */
export const stopAnswerSchema = z.object({ status: z.string() });

/** `POST /sessions/:id/close`'s body: a close proof of mode 0 over the session end. */
export const closeRequestSchema = z
  .object({ proof: groth16, publicSignals: signals(CLOSE_PUBLIC_SIGNALS), extData })
  .strict();

/** `POST /sessions/:id/close`'s answer. */
export const closeAnswerSchema = z.object({
  txHash: z.string(),
  amount: uint,
  refund: uint,
  /** True when the escrow was already closed with this session's end (a repeated request). */
  existing: z.boolean(),
});

/** An error answer (the one form every zkcharge API uses, wire.ts). */
export const stationErrorSchema = apiErrorSchema;

/** Parsed forms. */
export type StationInfo = z.output<typeof stationInfoSchema>;
export type Offer = z.output<typeof offerSchema>;
export type StartRequest = z.output<typeof startRequestSchema>;
export type StartAnswer = z.output<typeof startAnswerSchema>;
export type StationReading = z.output<typeof stationReadingSchema>;
export type SessionStatus = z.output<typeof sessionStatusSchema>;
export type ReadingsAnswer = z.output<typeof readingsAnswerSchema>;
export type LiveMessage = z.output<typeof liveMessageSchema>;
export type StationCloseRequest = z.output<typeof closeRequestSchema>;
export type StationCloseAnswer = z.output<typeof closeAnswerSchema>;
export type StationErrorBody = z.output<typeof stationErrorSchema>;
