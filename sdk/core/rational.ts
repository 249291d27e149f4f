/**
 * Exact non-negative-friendly rational numbers `n / d` over bigint (d > 0, always reduced): the OCPI reference
 * pricer's arithmetic, so that no price is ever a float and rounding happens only where a caller says so.
 */

/** An exact rational `n / d`, `d > 0`, reduced. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** `n / d`, reduced. @throws RangeError when `d` is 0 */
export function ratio(n: bigint, d: bigint = 1n): Rational {
  if (d === 0n) throw new RangeError("rational with denominator 0");
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

/** 0 and 1. */
export const ZERO: Rational = ratio(0n);
export const ONE: Rational = ratio(1n);

/** `a + b`. */
export const add = (a: Rational, b: Rational): Rational => ratio(a.n * b.d + b.n * a.d, a.d * b.d);
/** `a - b`. */
export const sub = (a: Rational, b: Rational): Rational => ratio(a.n * b.d - b.n * a.d, a.d * b.d);
/** `a * b`. */
export const mul = (a: Rational, b: Rational): Rational => ratio(a.n * b.n, a.d * b.d);
/** `a / b`. @throws RangeError when `b` is 0 */
export const div = (a: Rational, b: Rational): Rational => ratio(a.n * b.d, a.d * b.n);
/** Sign of `a - b`: -1, 0 or 1. */
export const cmp = (a: Rational, b: Rational): number => {
  const x = a.n * b.d - b.n * a.d;
  return x < 0n ? -1 : x > 0n ? 1 : 0;
};
/** The smaller of `a` and `b`. */
export const min = (a: Rational, b: Rational): Rational => (cmp(a, b) <= 0 ? a : b);
/** The larger of `a` and `b`. */
export const max = (a: Rational, b: Rational): Rational => (cmp(a, b) >= 0 ? a : b);
/** The largest integer `<= a`. */
export const floor = (a: Rational): bigint => (a.n >= 0n ? a.n / a.d : -((-a.n + a.d - 1n) / a.d));
/** The smallest integer `>= a`. */
export const ceil = (a: Rational): bigint => -floor(ratio(-a.n, a.d));
/** Whether `a` is 0. */
export const isZero = (a: Rational): boolean => a.n === 0n;

/**
 * The exact value of a decimal text (`"0.25"`, `"19"`, `"1e-7"`): JSON numbers are written in decimal, and a JS
 * number prints as the shortest decimal that reads back as it, so `decimal(String(x))` is the number as written.
 * @throws RangeError when the text is not a decimal number
 */
export function decimal(text: string): Rational {
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a decimal number`);
  const frac = m[3] ?? "";
  const exp = Number(m[4] ?? "0") - frac.length;
  const int = BigInt((m[1] ?? "") + m[2]! + frac);
  return exp >= 0 ? ratio(int * 10n ** BigInt(exp)) : ratio(int, 10n ** BigInt(-exp));
}
