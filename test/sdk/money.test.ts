import { expect } from "chai";
import fc from "fast-check";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { formatAmount, parseAmount } from "../../sdk/core/money.ts";

describe("sdk/money", () => {
  it("formats base units with 2..6 decimals", () => {
    expect(formatAmount(3_450_000n)).to.equal("3.45 EUR");
    expect(formatAmount(1_200_000n)).to.equal("1.20 EUR");
    expect(formatAmount(0n)).to.equal("0.00 EUR");
    expect(formatAmount(1n)).to.equal("0.000001 EUR");
    expect(formatAmount(1_234_567n)).to.equal("1.234567 EUR");
    expect(formatAmount(-1_200_000n)).to.equal("-1.20 EUR");
    expect(formatAmount(12_000_000n, "")).to.equal("12.00");
  });

  it("parses exactly, without floats", () => {
    expect(parseAmount("3.45")).to.equal(3_450_000n);
    expect(parseAmount("3")).to.equal(3_000_000n);
    expect(parseAmount("3.")).to.equal(3_000_000n);
    expect(parseAmount("0.000001")).to.equal(1n);
    expect(parseAmount(" 3.45 EUR ")).to.equal(3_450_000n);
    expect(parseAmount("18446744073709.551615")).to.equal((1n << 64n) - 1n);
  });

  it("refuses malformed amounts and extra decimals", () => {
    for (const bad of ["", "abc", "-1", "1e3", "1.2.3", ".5", "1,5"]) {
      expect(() => parseAmount(bad), bad).to.throw(InvalidInputError);
    }
    expect(() => parseAmount("0.0000001")).to.throw(InvalidInputError, /7 decimals/);
  });

  it("parse(format(x)) = x", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 70n }), (x) => {
        expect(parseAmount(formatAmount(x))).to.equal(x);
      }),
    );
  });
});
