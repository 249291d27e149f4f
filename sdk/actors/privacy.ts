/**
 * Privacy hygiene for a wallet: what a spend would reveal through timing, and escrow terms that do not fingerprint.
 *
 * Nothing cryptographic links a payment to its driver, but habits do. An outside review linked, from chain data
 * alone, a spend made within 30 minutes of the deposit or merge that created its note to that deposit or merge with
 * 94-97% precision, and an exact-remainder withdrawal right after a merge narrowed the depositor by subset sum.
 * {@link assessSpend} flags both before the driver proves anything; {@link standardCap} and
 * {@link roundDeadline} keep escrow terms on a small public menu and a coarse grid, so that terms alone do not tell
 * one driver's escrows from another's.
 */
import { InvalidInputError } from "../core/errors.ts";
import { formatAmount } from "../core/money.ts";

/** Which kind of transaction created a note. */
export type NoteOrigin = "deposit" | "transact" | "pay" | "lock" | "close" | "refund";

/** When and how a note the driver wants to spend was created. */
export interface NoteProvenance {
  leafIndex: number;
  origin: NoteOrigin;
  /** Block time of the transaction that created the note, unix seconds. */
  createdAt: bigint;
}

/** One reason a spend is linkable, with what to do instead. */
export interface PrivacyWarning {
  /** Stable code: `FRESH_DEPOSIT`, `FRESH_MERGE`, `FRESH_NOTE`, `EXACT_REMAINDER_AFTER_MERGE`, `CUSTOM_ESCROW_TERMS`. */
  code: "FRESH_DEPOSIT" | "FRESH_MERGE" | "FRESH_NOTE" | "EXACT_REMAINDER_AFTER_MERGE" | "CUSTOM_ESCROW_TERMS";
  /** The note concerned, if one. */
  leafIndex?: number;
  /** What an observer could link, in plain words. */
  message: string;
  /** What to do instead. */
  advice: string;
}

/** Machine-readable privacy report of a prepared spend. */
export interface PrivacyReport {
  /** True when at least one warning applies: the spend is linkable beyond chance. */
  linkable: boolean;
  warnings: PrivacyWarning[];
}

/** A report of `warnings`: linkable exactly when there is at least one. */
export function privacyReport(warnings: readonly PrivacyWarning[]): PrivacyReport {
  return { linkable: warnings.length > 0, warnings: [...warnings] };
}

/** Default window within which a spend is linkable to the transaction that created its note (30 minutes). */
export const LINKABILITY_WINDOW_SECONDS = 1800n;

/**
 * Assesses what spending `spent` at time `now` would reveal.
 * @param args.kind - the spend (`pay`, `lock`, `withdraw`, `merge`, `transfer`)
 * @param args.spent - provenance of each note spent
 * @param args.now - the time the spend will be submitted (latest block time), unix seconds
 * @param args.emptiesWallet - true when a withdrawal takes the wallet's whole remainder
 * @param args.windowSeconds - linkability window (default {@link LINKABILITY_WINDOW_SECONDS})
 */
export function assessSpend(args: {
  kind: "pay" | "lock" | "withdraw" | "merge" | "transfer";
  spent: readonly NoteProvenance[];
  now: bigint;
  emptiesWallet?: boolean;
  windowSeconds?: bigint;
}): PrivacyReport {
  const window = args.windowSeconds ?? LINKABILITY_WINDOW_SECONDS;
  const warnings: PrivacyWarning[] = [];
  const minutes = (s: bigint) => `${s / 60n} min`;
  for (const note of args.spent) {
    const age = args.now - note.createdAt;
    if (age < 0n || age >= window) continue;
    const made =
      { deposit: "the deposit", transact: "the merge or transfer" }[note.origin as string] ?? `the ${note.origin}`;
    const code =
      note.origin === "deposit" ? "FRESH_DEPOSIT" : note.origin === "transact" ? "FRESH_MERGE" : "FRESH_NOTE";
    warnings.push({
      code,
      leafIndex: note.leafIndex,
      message: `note #${note.leafIndex} was created by ${made} ${minutes(age)} ago: a ${args.kind} this soon after it can be linked to it from timing alone`,
      advice: `top up or merge well ahead of charging (at least ${minutes(window)} before), or wait before this ${args.kind}`,
    });
  }
  if (args.kind === "withdraw" && args.emptiesWallet === true) {
    const merged = args.spent.some((n) => n.origin === "transact" && args.now - n.createdAt < window);
    if (merged) {
      warnings.push({
        code: "EXACT_REMAINDER_AFTER_MERGE",
        message:
          "withdrawing the exact remainder right after a merge lets an observer match the amount against deposits",
        advice: "withdraw a round amount and leave the rest, or wait a while after merging",
      });
    }
  }
  return privacyReport(warnings);
}

/** Escrow caps on the standard menu, token base units (6 decimals): 5, 10, 20, 30, 50, 75, 100, 150. */
export const STANDARD_CAPS: readonly bigint[] = [5n, 10n, 20n, 30n, 50n, 75n, 100n, 150n].map((c) => c * 1_000_000n);

/** Grid escrow deadlines are rounded up to by default (15 minutes). */
export const DEADLINE_GRID_SECONDS = 900n;

/**
 * The smallest cap on the standard menu covering `atLeast`.
 * @throws InvalidInputError if `atLeast` is not positive or exceeds the largest standard cap
 */
export function standardCap(atLeast: bigint): bigint {
  if (atLeast <= 0n) throw new InvalidInputError(`an escrow cap must be positive, got ${atLeast}`);
  const cap = STANDARD_CAPS.find((c) => c >= atLeast);
  if (cap === undefined) {
    throw new InvalidInputError(
      `${formatAmount(atLeast)} is above the largest standard escrow cap ${formatAmount(STANDARD_CAPS.at(-1)!)}`,
    );
  }
  return cap;
}

/** Whether `cap` is on the standard menu (a cap off the menu can tell a driver's escrows apart). */
export function isStandardCap(cap: bigint): boolean {
  return STANDARD_CAPS.includes(cap);
}

/**
 * `t` rounded up to the deadline grid (default 15 minutes), so that deadlines do not reveal the second a driver
 * plugged in.
 * @throws InvalidInputError if the grid is not positive
 */
export function roundDeadline(t: bigint, grid: bigint = DEADLINE_GRID_SECONDS): bigint {
  if (grid <= 0n) throw new InvalidInputError(`the deadline grid must be positive, got ${grid}`);
  return ((t + grid - 1n) / grid) * grid;
}

/**
 * Warnings for escrow terms off the standard menu or off the deadline grid: such terms can tell one driver's escrows
 * from everyone else's.
 */
export function assessEscrowTerms(terms: {
  cap: bigint;
  settleDeadline: bigint;
  claimDeadline: bigint;
}): PrivacyWarning[] {
  const warnings: PrivacyWarning[] = [];
  if (!isStandardCap(terms.cap)) {
    warnings.push({
      code: "CUSTOM_ESCROW_TERMS",
      message: `the cap ${formatAmount(terms.cap)} is not on the standard menu, so it can single out your escrows`,
      advice: `use standardCap(): ${STANDARD_CAPS.map((c) => formatAmount(c)).join(", ")}`,
    });
  }
  for (const [name, t] of [
    ["settle", terms.settleDeadline],
    ["claim", terms.claimDeadline],
  ] as const) {
    if (t % DEADLINE_GRID_SECONDS !== 0n) {
      warnings.push({
        code: "CUSTOM_ESCROW_TERMS",
        message: `the ${name} deadline is not on the ${DEADLINE_GRID_SECONDS / 60n}-minute grid, so it tells when you plugged in`,
        advice: "round deadlines with roundDeadline()",
      });
    }
  }
  return warnings;
}
