/** Exact rationals (sdk/core/rational.ts): the OCPI reference pricer's arithmetic. */
import { expect } from "chai";
import { add, ceil, cmp, decimal, div, floor, mul, ratio, sub } from "../../sdk/core/rational.ts";

describe("sdk/core/rational", () => {
  it("keeps fractions reduced with a positive denominator", () => {
    expect(ratio(6n, -4n)).to.deep.equal({ n: -3n, d: 2n });
    expect(ratio(0n, 7n)).to.deep.equal({ n: 0n, d: 1n });
    expect(add(ratio(1n, 3n), ratio(1n, 6n))).to.deep.equal({ n: 1n, d: 2n });
    expect(sub(ratio(1n, 3n), ratio(1n, 2n))).to.deep.equal({ n: -1n, d: 6n });
    expect(mul(ratio(2n, 3n), ratio(9n, 4n))).to.deep.equal({ n: 3n, d: 2n });
    expect(div(ratio(1n, 3n), ratio(2n, 3n))).to.deep.equal({ n: 1n, d: 2n });
    expect(cmp(ratio(1n, 3n), ratio(333n, 1000n))).to.equal(1);
  });

  it("floors and ceils toward the right side of zero", () => {
    expect([floor(ratio(7n, 2n)), ceil(ratio(7n, 2n))]).to.deep.equal([3n, 4n]);
    expect([floor(ratio(-7n, 2n)), ceil(ratio(-7n, 2n))]).to.deep.equal([-4n, -3n]);
    expect([floor(ratio(4n)), ceil(ratio(4n))]).to.deep.equal([4n, 4n]);
  });

  it("reads decimals exactly, exponents included (what String(number) prints)", () => {
    expect(decimal("0.25")).to.deep.equal({ n: 1n, d: 4n });
    expect(decimal(String(0.1))).to.deep.equal({ n: 1n, d: 10n });
    expect(decimal(String(1e-7))).to.deep.equal({ n: 1n, d: 10_000_000n });
    expect(decimal(String(1e21))).to.deep.equal({ n: 10n ** 21n, d: 1n });
    expect(decimal("-2.50")).to.deep.equal({ n: -5n, d: 2n });
  });

  it("refuses what is not a number: a zero denominator, non-decimal text", () => {
    expect(() => ratio(1n, 0n)).to.throw(RangeError, "denominator 0");
    expect(() => div(ratio(1n), ratio(0n))).to.throw(RangeError, "denominator 0");
    expect(() => decimal("1,5")).to.throw(RangeError, '"1,5" is not a decimal number');
    expect(() => decimal("NaN")).to.throw(RangeError);
  });
});
