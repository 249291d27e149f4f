/**
 * Fault injection for tests (dev only: `--fault <kind>` is refused unless ZKCHARGE_DEV_FAULTS=1): a charger that
 * cheats in one of the ways the station and the driver's wallet must catch. A record-level fault rewrites one live
 * tail (the first from seqNo {@link FAULT_SEQ_NO} on) after the meter signed it, so the meter's own session goes on
 * honestly; `other-tariff` signs the whole session under another tariff than the one the station offered.
 */
import type { LiveRecord, Tariff } from "../sdk/index.ts";

/** The ways a faulty charger cheats. */
export const CHARGER_FAULTS = ["over-power", "bad-signature", "time-back", "skip-boundary", "other-tariff"] as const;
export type ChargerFault = (typeof CHARGER_FAULTS)[number];

/** The environment variable that allows `--fault` (tests and dev chains only). */
export const FAULTS_VARIABLE = "ZKCHARGE_DEV_FAULTS";

/** The first seqNo a record-level fault may rewrite. */
export const FAULT_SEQ_NO = 3;

/** `record` rewritten by `fault` (record-level faults only; `other-tariff` leaves records alone). */
export function faultyRecord(fault: ChargerFault, record: LiveRecord): LiveRecord {
  switch (fault) {
    case "over-power":
      return { ...record, e: record.e + 10_000n };
    case "bad-signature":
      return { ...record, signature: { ...record.signature, S: record.signature.S + 1n } };
    case "time-back":
      return { ...record, t: record.t - 30n };
    case "skip-boundary":
      return { ...record, t: record.t + 86_400n };
    case "other-tariff":
      return record;
  }
}

/** The tariff a charger with `fault` signs under instead of `offered`. */
export function faultyTariff(fault: ChargerFault | undefined, offered: Tariff): Tariff {
  if (fault !== "other-tariff") return offered;
  return { ...offered, energyPrice: offered.energyPrice.map((p) => p * 2n) as unknown as Tariff["energyPrice"] };
}
