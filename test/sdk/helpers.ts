/** Shared fixtures of the SDK unit tests. */
import { createRequire } from "node:module";
import type * as EddsaPoseidon from "@zk-kit/eddsa-poseidon";
import { everyBand, type Tariff } from "../../sdk/tariff/tariff.ts";

/**
 * @zk-kit/eddsa-poseidon loaded through its CommonJS build: its ESM build imports named exports from the
 * CommonJS blakejs, which Node's native loader (used by `hardhat test mocha`) rejects.
 */
export const eddsa = createRequire(import.meta.url)("@zk-kit/eddsa-poseidon") as typeof EddsaPoseidon;

/** 2023-11-15 00:00:00 UTC: a UTC midnight. */
export const DAY0 = 1_700_006_400n;
export const HOUR = 3600n;

/** A tariff with bands at local 00:00 / 06:00 / 12:00 / 18:00, UTC+1. */
export function sampleTariff(overrides: Partial<Tariff> = {}): Tariff {
  return {
    cpoId: 7n,
    flatFee: 500_000n, // 0.50 EUR
    energyPrice: [300_000n, 400_000n, 500_000n, 350_000n], // EUR 0.30 / 0.40 / 0.50 / 0.35 per kWh
    bandStart: [0n, 6n * HOUR, 12n * HOUR, 18n * HOUR],
    timePricePerHour: everyBand(0n),
    parkingPricePerHour: everyBand(0n),
    minPrice: 0n,
    maxPrice: 0n,
    tzOffset: HOUR,
    validFrom: DAY0 - 30n * 86_400n,
    validTo: DAY0 + 30n * 86_400n,
    stepSize: [1n, 1n, 1n],
    ...overrides,
  };
}
