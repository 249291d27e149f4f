/**
 * No value the circuits multiply, add or compare can wrap the field: the largest values the range
 * checks let through stay far below r. If a bit width in sdk/constants.ts grows, this test says
 * whether the arithmetic still fits (docs/protocol.md, "Session bill and rounding rule").
 */
import { expect } from "chai";
import { BILL_DIVISOR, BITS, FIELD_MODULUS, N_POINTS } from "../../sdk/core/constants.ts";

const max = (bits: number) => (1n << BigInt(bits)) - 1n;

describe("field bounds", () => {
  it("the bill numerator stays below 2^81 (and the bill below 2^64) with every input at its range-check maximum", () => {
    // Chain intervals (N_POINTS - 1) plus the live-tail interval of close: N_POINTS intervals at most.
    const energyTerm = max(BITS.interval) * max(BITS.energyPrice) * 3600n;
    const timeTerm = max(BITS.interval) * max(BITS.timePrice) * 1000n;
    // step_size: each dimension's round-up (< its step <= 2^stepSize) billed once at its last price.
    const stepExtra = 1n << BigInt(BITS.stepSize);
    const stepTerms = stepExtra * max(BITS.energyPrice) * 3600n + 2n * stepExtra * max(BITS.timePrice) * 1000n;
    const numerator = max(BITS.flatFee) * BILL_DIVISOR + BigInt(N_POINTS) * (energyTerm + timeTerm) + stepTerms;
    expect(energyTerm < 1n << 76n, "one energy term < 2^76").to.equal(true);
    expect(numerator < 1n << 81n, "numerator < 2^81").to.equal(true);
    expect(numerator < FIELD_MODULUS >> 100n).to.equal(true);
    // The circuit range-checks the bill to 64 bits: every provable session must fit, with room to spare.
    expect(numerator / BILL_DIVISOR < 1n << BigInt(BITS.value)).to.equal(true);
    // Division is unique: bill * D + remainder < 2^64 * 2^22 is far below r.
    expect(max(BITS.value) * BILL_DIVISOR + BILL_DIVISOR < FIELD_MODULUS).to.equal(true);
  });

  it("a dimension's session volume and its step quotient fit StepRoundUp's 40-bit range check", () => {
    const volume = BigInt(N_POINTS) * max(BITS.interval); // Wh or seconds over every interval
    expect(volume < 1n << 40n).to.equal(true);
    // q = ceil(volume / step) <= volume for step >= 1; q * step < 2^40 * 2^32 is far below r.
    expect((1n << 40n) * (1n << BigInt(BITS.stepSize)) < FIELD_MODULUS >> 100n).to.equal(true);
  });

  it("the power check compares values below 2^56 (its LessEqThan width)", () => {
    expect(max(BITS.interval) * 3600n < 1n << 56n).to.equal(true);
    expect(max(BITS.ratedPower) * max(BITS.interval) < 1n << 56n).to.equal(true);
  });

  it("times stay below 2^41 over a whole session, and local time of day below 2^42", () => {
    const lastPoint = max(BITS.time) + BigInt(N_POINTS) * max(BITS.interval);
    expect(lastPoint < 1n << 41n).to.equal(true);
    expect(lastPoint + 86_399n < 1n << 42n).to.equal(true);
    // TimeOfDay's quotient fits its 26-bit range check.
    expect((lastPoint + 86_399n) / 86_400n < 1n << 26n).to.equal(true);
  });

  it("the balance equations cannot wrap: two notes plus or minus a public amount stay below r", () => {
    // pay / lock: value = amount + fee + change, each < 2^64.
    expect(3n * max(BITS.value) < FIELD_MODULUS).to.equal(true);
    // transact: sum(in) + (extAmount - fee) = sum(out), |extAmount|, fee < 2^64 (pool-checked).
    const worst = 2n * max(BITS.value) + 2n * max(BITS.value);
    expect(worst < FIELD_MODULUS / 2n).to.equal(true);
  });
});
