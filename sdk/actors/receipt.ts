/**
 * A session receipt on the wire: what a station hands the driver after a session ends, so the driver's wallet
 * (a CLI, a browser) can prove the payment: the meter-signed session and the meter's path in the CPO's meter tree.
 * JSON, integers as decimal strings (wire.ts), the tariff as `tariffToJson` writes it:
 *
 * ```json
 * { "version": 1, "session": { "sessionId": "...", "points": [{ "t": "...", "e": "..." }], ... },
 *   "meterPath": { "leaf": "...", "leafIndex": "...", "treeSize": "...", "siblings": ["..."] } }
 * ```
 *
 * Parsing checks the meter's signature over the session end, so a receipt that was altered (a point, the tariff,
 * the count) is refused before any proof is attempted.
 */
import { z } from "zod";
import { InvalidInputError } from "../core/errors.ts";
import { tariffFromJson, tariffToJson } from "../meter/liveRecord.ts";
import { verifySignedSession, type SignedSession } from "../meter/record.ts";
import type { SessionReceipt } from "./operator.ts";
import { describeZodIssue, toWire, uint } from "./wire.ts";

/** Version of the receipt format. */
export const SESSION_RECEIPT_VERSION = 1;

const point = z.object({ t: uint, e: uint }).strict();
const receiptSchema = z
  .object({
    version: z.literal(SESSION_RECEIPT_VERSION),
    session: z
      .object({
        sessionId: uint,
        cpoId: uint,
        meterLeaf: uint,
        ratedPowerW: uint,
        tariff: z.record(z.string(), z.unknown()),
        tariffHash: uint,
        points: z.array(point).min(1).max(64),
        n: z.number().int().positive(),
        signature: z.object({ R8: z.tuple([uint, uint]), S: uint }).strict(),
        meterPublicKey: z.tuple([uint, uint]),
        ocmfDigest: uint,
        final: uint,
      })
      .strict(),
    meterPath: z.object({ leaf: uint, leafIndex: uint, treeSize: uint, siblings: z.array(uint).max(64) }).strict(),
  })
  .strict();

/** The receipt (`Operator.receipt`'s answer) as JSON text (see the module comment). */
export function sessionReceiptToJson(receipt: SessionReceipt): string {
  const { tariff, ...session } = receipt.session;
  return JSON.stringify({
    version: SESSION_RECEIPT_VERSION,
    session: { ...(toWire(session) as object), tariff: tariffToJson(tariff) },
    meterPath: toWire(receipt.meterPath),
  });
}

/**
 * Parses a receipt and checks its meter signature.
 * @throws InvalidInputError naming the first malformed field, or saying the meter signature does not verify
 */
export function parseSessionReceipt(text: string): SessionReceipt {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidInputError("the session receipt is not JSON");
  }
  const parsed = receiptSchema.safeParse(json);
  if (!parsed.success) throw new InvalidInputError(`session receipt: ${describeZodIssue(parsed.error)}`);
  const { session, meterPath } = parsed.data;
  const signed: SignedSession = { ...session, tariff: tariffFromJson(session.tariff) };
  if (!verifySignedSession(signed)) {
    throw new InvalidInputError(
      "session receipt: the meter's signature does not match the session (altered, or not signed by this meter)",
    );
  }
  if (meterPath.leaf !== signed.meterLeaf) {
    throw new InvalidInputError("session receipt: the meter path is for another meter than the one that signed");
  }
  return { session: signed, meterPath };
}
