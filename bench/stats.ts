/** Small statistics and formatting helpers of the benchmark. */

/** Median, minimum and maximum of a sample, plus the raw values. */
export interface Sample {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** Summarises `values` (at least one). */
export function sample(values: number[]): Sample {
  if (values.length === 0) throw new Error("sample: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: values };
}

/** Least-squares line y = intercept + slope * x, with the largest absolute residual. */
export interface LinearFit {
  slope: number;
  intercept: number;
  maxResidual: number;
}

export function linearFit(xs: number[], ys: number[]): LinearFit {
  const n = xs.length;
  if (n < 2 || ys.length !== n) throw new Error("linearFit: need two or more (x, y) pairs");
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const maxResidual = Math.max(...xs.map((x, i) => Math.abs(ys[i]! - (intercept + slope * x))));
  return { slope, intercept, maxResidual };
}

/** Number of 1-bits. */
export function popcount(x: bigint | number): number {
  let v = BigInt(x);
  let c = 0;
  while (v > 0n) {
    c += Number(v & 1n);
    v >>= 1n;
  }
  return c;
}

/** Milliseconds with a unit: "2.41 s" or "68 ms" or "7.3 ms". */
export function ms(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  return `${v.toFixed(1)} ms`;
}

/** "median (min-max)" in ms/s. */
export function spread(s: Sample): string {
  return `${ms(s.median)} (${ms(s.min)}-${ms(s.max)})`;
}

/** Thousands-separated integer: 1234567 -> "1,234,567". */
export function int(v: number | bigint): string {
  return BigInt(Math.round(Number(v))).toLocaleString("en-US");
}

/** Bytes as MiB. */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A left-aligned first column and right-aligned other columns, with a dashed rule under the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const fmt = (r: string[]) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}
