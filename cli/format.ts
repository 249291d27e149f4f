/**
 * How the CLI prints: a headline per command (`say`) with indented details, amounts, energy, local times,
 * bills, chain points and escrows. Every line format the commands share is written here once.
 */
import type { TransactionReceipt } from "ethers";
import {
  BILL_DIVISOR,
  clock,
  formatAmount,
  timeOfDay,
  type Bill,
  type Point,
  type PrivacyReport,
  type Tariff,
} from "../sdk/index.ts";
import { DAY, HOUR } from "../dev/localNetwork.ts";
import type { EscrowRecord } from "./state.ts";

/** A headline. */
export const say = (line: string): void => console.log(line);
/** A detail line under the headline. */
export const detail = (line: string): void => console.log(`    ${line}`);

/** A long number or hash cut to 16 characters. */
export function short(x: bigint | string): string {
  const s = x.toString();
  return s.length > 18 ? `${s.slice(0, 16)}...` : s;
}

/** Wh as kWh with 3 decimals. */
export function kwh(wh: bigint): string {
  return `${wh / 1000n}.${(wh % 1000n).toString().padStart(3, "0")} kWh`;
}

/** `HH:MM` of seconds after midnight. */
export function hhmm(secondsOfDay: bigint): string {
  return clock(secondsOfDay).slice(0, 5);
}

/** Local `HH:MM` of unix time `t` under the tariff's time zone. */
export function localClock(t: bigint, tariff: Tariff): string {
  return hhmm(timeOfDay(t, tariff));
}

/** Local `YYYY-MM-DD HH:MM` of unix time `t` under the tariff's time zone. */
export function localDate(t: bigint, tariff: Tariff): string {
  return new Date(Number(t + tariff.tzOffset) * 1000).toISOString().slice(0, 16).replace("T", " ");
}

/** A tariff's `tzOffset` as `UTC+01:00` (offsets above 12 h are negative zones modulo one day). */
export function tzText(tzOffset: bigint): string {
  const minutes = Number(tzOffset > 12n * HOUR ? tzOffset - DAY : tzOffset) / 60;
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** Whole minutes from `from` to `to`, rounded up. */
export function minutesUntil(from: bigint, to: bigint): bigint {
  return (to - from + 59n) / 60n;
}

/** A transaction detail: hash, block and gas. */
export function txLine(what: string, r: Pick<TransactionReceipt, "hash" | "blockNumber" | "gasUsed">): void {
  detail(`${what}: tx ${r.hash} (block ${r.blockNumber}, gas ${r.gasUsed.toLocaleString("en-US")})`);
}

/** A proof's timings: witness and prove in ms, the whole preparation in s. */
export function proofLine(witnessMs: number, proveMs: number, wallMs: number): void {
  detail(
    `proof: witness ${Math.round(witnessMs)} ms + prove ${Math.round(proveMs)} ms (${(wallMs / 1000).toFixed(1)} s)`,
  );
}

/** A session's chain points, local time and register. */
export function printChainPoints(points: readonly Point[], tariff: Tariff): void {
  points.forEach((p, i) => detail(`chain point ${i + 1}: ${localClock(p.t, tariff)}  register ${kwh(p.e)}`));
}

/** The bill's lines: the flat fee, then energy and time per interval (`tailFrom`: the live tail interval's start). */
export function printBill(bill: Bill, tariff: Tariff, tailFrom?: bigint): void {
  detail(`flat fee ${formatAmount(tariff.flatFee)}`);
  for (const iv of bill.perInterval) {
    detail(
      `${localClock(iv.tStart, tariff)}-${localClock(iv.tEnd, tariff)} band ${iv.band} @ ${formatAmount(tariff.energyPrice[iv.band]!)}/kWh: ` +
        `${kwh(iv.de)} = ${formatAmount(iv.energyNumerator / BILL_DIVISOR)}, ${iv.dt / 60n} min ${iv.parked ? "parked" : "charging"} = ${formatAmount(iv.timeNumerator / BILL_DIVISOR)}` +
        (tailFrom !== undefined && iv.tStart === tailFrom ? " (live tail interval)" : ""),
    );
  }
}

/** An escrow record in one line: its terms while open, what happened to it otherwise. */
export function describeEscrow(e: EscrowRecord, tariff: Tariff): string {
  const terms = `cap ${formatAmount(e.cap)}, settle by ${localDate(e.settleDeadline, tariff)}, claim by ${localDate(e.claimDeadline, tariff)}`;
  if (e.status === "open") return `open, ${terms}`;
  if (e.status === "refunded") return `refunded in full (${formatAmount(e.cap)})`;
  return `closed ${e.closeMode === "tail" ? "from a live tail" : "by the session end"}, charged ${formatAmount(e.charged ?? 0n)} of ${formatAmount(e.cap)}`;
}

/** A prepared spend's privacy warnings (sdk/actors/privacy.ts), each with what to do instead. */
export function printPrivacy(report: PrivacyReport): void {
  for (const w of report.warnings) {
    detail(`privacy warning ${w.code}: ${w.message}`);
    detail(`    instead: ${w.advice}`);
  }
}
