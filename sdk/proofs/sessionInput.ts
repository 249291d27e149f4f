/**
 * The circuit inputs every session-bill circuit (pay, close) shares: tariff fields, the meter and
 * its path, the chain points (zero-padded to N_POINTS), the OCMF digest of the session-end record and the meter's
 * signature. Written once.
 */
import { METER_TREE_DEPTH, N_POINTS } from "../core/constants.ts";
import { durationLimitWords } from "../core/hash.ts";
import { InvalidInputError } from "../core/errors.ts";
import type { LiveEvidence, SignedSession } from "../meter/record.ts";
import { rootFromPath, type MerklePath } from "../core/tree.ts";

/** What a session-bill circuit needs from the meter: a finished session or live evidence. */
export type SessionRecord = SignedSession | LiveEvidence;

function padded(values: readonly bigint[]): bigint[] {
  return [...values, ...new Array<bigint>(N_POINTS - values.length).fill(0n)];
}

/** The circuit's hint for chain points 2..N: 1 at the first point taken at the duration limit, if any. */
function durationLimitPoint(record: SessionRecord): bigint[] {
  const hint = new Array<bigint>(N_POINTS - 1).fill(0n);
  const limit = record.tariff.durationLimit;
  if (limit) {
    const at = record.points[0]!.t + limit.seconds;
    const j = record.points.findIndex((p, i) => i > 0 && p.t === at);
    if (j > 0) hint[j - 1] = 1n;
  }
  return hint;
}

/**
 * The SessionBill / MeterSignature inputs of `record`, and the meter root its path proves.
 * @throws InvalidInputError if the path is not the session meter's
 */
export function sessionBillInputs(record: SessionRecord, meterPath: MerklePath) {
  if (meterPath.siblings.length !== METER_TREE_DEPTH) {
    throw new InvalidInputError(`the meter path must have ${METER_TREE_DEPTH} siblings`);
  }
  if (meterPath.leaf !== record.meterLeaf) {
    throw new InvalidInputError(
      `meter path proves leaf ${meterPath.leaf}, not the session's meter ${record.meterLeaf}`,
    );
  }
  const t = record.tariff;
  const [Ax, Ay] = record.meterPublicKey;
  return {
    meterRoot: rootFromPath(meterPath),
    inputs: {
      flatFee: t.flatFee,
      energyPrice: [...t.energyPrice],
      bandStart: t.bandStart.slice(1),
      timePricePerHour: [...t.timePricePerHour],
      parkingPricePerHour: [...t.parkingPricePerHour],
      minPrice: t.minPrice,
      maxPrice: t.maxPrice,
      tzOffset: t.tzOffset,
      validFrom: t.validFrom,
      validTo: t.validTo,
      stepSize: [...t.stepSize],
      durationLimit: [...durationLimitWords(t.durationLimit)],
      meterAx: Ax,
      meterAy: Ay,
      ratedPowerW: record.ratedPowerW,
      meterIndex: meterPath.leafIndex,
      meterTreeSize: meterPath.treeSize,
      meterSiblings: meterPath.siblings,
      n: BigInt(record.n),
      t: padded(record.points.map((p) => p.t)),
      e: padded(record.points.map((p) => p.e)),
      durationLimitPoint: durationLimitPoint(record),
      // In the session-end record; live evidence signs a tail instead, where the circuit ignores it.
      ocmfDigest: "ocmfDigest" in record ? record.ocmfDigest : 0n,
      sigR8x: record.signature.R8[0],
      sigR8y: record.signature.R8[1],
      sigS: record.signature.S,
    },
  };
}
