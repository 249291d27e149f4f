import { expect } from "chai";
import {
  LINKABILITY_WINDOW_SECONDS,
  STANDARD_CAPS,
  assessSpend,
  isStandardCap,
  roundDeadline,
  standardCap,
} from "../../sdk/actors/privacy.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";

const EUR = 1_000_000n;
const NOW = 1_800_000_000n;

describe("sdk: privacy hygiene", () => {
  describe("assessSpend", () => {
    it("flags a payment from a note deposited within the window, and names the note and what to do", () => {
      const report = assessSpend({
        kind: "pay",
        now: NOW,
        spent: [{ leafIndex: 7, origin: "deposit", createdAt: NOW - 600n }],
      });
      expect(report.linkable).to.equal(true);
      expect(report.warnings).to.have.length(1);
      expect(report.warnings[0]!.code).to.equal("FRESH_DEPOSIT");
      expect(report.warnings[0]!.leafIndex).to.equal(7);
      expect(report.warnings[0]!.message).to.match(/note #7 was created by the deposit 10 min ago/);
      expect(report.warnings[0]!.advice).to.match(/top up or merge well ahead/);
    });

    it("is quiet at and beyond the window's edge, flags one second inside it", () => {
      const at = (age: bigint) =>
        assessSpend({ kind: "lock", now: NOW, spent: [{ leafIndex: 1, origin: "deposit", createdAt: NOW - age }] });
      expect(at(LINKABILITY_WINDOW_SECONDS).linkable).to.equal(false);
      expect(at(LINKABILITY_WINDOW_SECONDS + 3600n).linkable).to.equal(false);
      expect(at(LINKABILITY_WINDOW_SECONDS - 1n).linkable).to.equal(true);
      expect(at(0n).linkable).to.equal(true);
    });

    it("flags a fresh merge, and an exact-remainder withdrawal right after it", () => {
      const spent = [{ leafIndex: 3, origin: "transact" as const, createdAt: NOW - 60n }];
      const partial = assessSpend({ kind: "withdraw", now: NOW, spent, emptiesWallet: false });
      expect(partial.warnings.map((w) => w.code)).to.deep.equal(["FRESH_MERGE"]);
      const all = assessSpend({ kind: "withdraw", now: NOW, spent, emptiesWallet: true });
      expect(all.warnings.map((w) => w.code)).to.deep.equal(["FRESH_MERGE", "EXACT_REMAINDER_AFTER_MERGE"]);
    });

    it("does not flag old notes, or notes from pay change and refunds outside the window", () => {
      const report = assessSpend({
        kind: "withdraw",
        now: NOW,
        emptiesWallet: true,
        spent: [
          { leafIndex: 1, origin: "deposit", createdAt: NOW - 86_400n },
          { leafIndex: 2, origin: "pay", createdAt: NOW - 7200n },
        ],
      });
      expect(report).to.deep.equal({ linkable: false, warnings: [] });
    });
  });

  describe("standard escrow terms", () => {
    it("rounds a cap up to the menu: edges 1, 5 EUR, 5 EUR + 1, the top and one above it", () => {
      expect(standardCap(1n)).to.equal(5n * EUR);
      expect(standardCap(5n * EUR)).to.equal(5n * EUR);
      expect(standardCap(5n * EUR + 1n)).to.equal(10n * EUR);
      expect(standardCap(STANDARD_CAPS.at(-1)!)).to.equal(150n * EUR);
      expect(() => standardCap(150n * EUR + 1n)).to.throw(InvalidInputError, /above the largest standard escrow cap/);
      expect(() => standardCap(0n)).to.throw(InvalidInputError, /must be positive/);
      expect(() => standardCap(-1n)).to.throw(InvalidInputError, /must be positive/);
      expect(isStandardCap(30n * EUR)).to.equal(true);
      expect(isStandardCap(30n * EUR + 1n)).to.equal(false);
    });

    it("rounds deadlines up to a 15-minute grid", () => {
      expect(roundDeadline(0n)).to.equal(0n);
      expect(roundDeadline(900n)).to.equal(900n);
      expect(roundDeadline(901n)).to.equal(1800n);
      expect(roundDeadline(NOW + 1n) % 900n).to.equal(0n);
      expect(() => roundDeadline(NOW, 0n)).to.throw(InvalidInputError, /grid must be positive/);
    });
  });
});
