/**
 * Two small charts for the CPO dashboard, hand-written SVG (no chart library): a session's power curve from its
 * signed readings, and earnings per day from the chain's payments. Each scales to its box (viewBox) and carries a
 * text alternative (role="img" and aria-label) with the numbers a screen reader needs.
 */
import { formatAmount } from "../../sdk/index.ts";
import { kw } from "./format.ts";

/** A reading's time (unix s) and energy register (Wh). */
export interface EnergyReading {
  t: bigint;
  e: bigint;
}

/** The power at a reading: watts over the interval since the reading before (0 at the first). */
export interface PowerPoint {
  t: bigint;
  w: bigint;
}

/**
 * One point per reading: the mean power since the reading before, `Δe · 3600 / Δt` W (the first reading: 0 W; two
 * readings in the same second, e.g. a chain point at a band boundary next to a live tail: the power before).
 */
export function powerCurve(readings: readonly EnergyReading[]): PowerPoint[] {
  let last = 0n;
  return readings.map((r, i) => {
    if (i === 0) return { t: r.t, w: 0n };
    const prev = readings[i - 1]!;
    const dt = r.t - prev.t;
    if (dt > 0n) last = ((r.e - prev.e) * 3600n) / dt;
    return { t: r.t, w: last };
  });
}

const W = 600;
const H = 200;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

const y = (v: number, max: number) => H - PAD.bottom - (max === 0 ? 0 : (v * (H - PAD.top - PAD.bottom)) / max);

/** Seconds as `m:ss` or `h:mm:ss`. */
function duration(s: bigint): string {
  const h = s / 3600n;
  const m = (s / 60n) % 60n;
  const ss = String(s % 60n).padStart(2, "0");
  return h > 0n ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A session's power curve: one polyline vertex (and dot) per reading, the rating as a dashed line. */
export function PowerCurveChart({ points, ratedPowerW }: { points: PowerPoint[]; ratedPowerW?: bigint }) {
  const peak = points.reduce((m, p) => (p.w > m ? p.w : m), 0n);
  const top = Number(ratedPowerW !== undefined && ratedPowerW > peak ? ratedPowerW : peak);
  const span = points.length > 1 ? points.at(-1)!.t - points[0]!.t : 0n;
  // Each vertex placed by time, so uneven reading intervals show as they were.
  const px = (p: PowerPoint) =>
    span === 0n ? PAD.left : PAD.left + (Number(p.t - points[0]!.t) * (W - PAD.left - PAD.right)) / Number(span);
  const coords = points.map((p) => `${px(p).toFixed(1)},${y(Number(p.w), top).toFixed(1)}`).join(" ");
  const label =
    `Power over the session: ${points.length} readings in ${duration(span)}, peak ${kw(peak)}` +
    (ratedPowerW !== undefined ? `, meter rated ${kw(ratedPowerW)}` : "");
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={label}
      data-testid="power-curve"
      data-points={points.length}
    >
      <title>{label}</title>
      <line class="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
      <line class="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} />
      {ratedPowerW !== undefined && (
        <line
          class="rating"
          x1={PAD.left}
          x2={W - PAD.right}
          y1={y(Number(ratedPowerW), top)}
          y2={y(Number(ratedPowerW), top)}
        />
      )}
      <text x={PAD.left - 4} y={PAD.top + 10} text-anchor="end">
        {kw(BigInt(top)).replace(" kW", "")}
      </text>
      <text x={PAD.left - 4} y={H - PAD.bottom} text-anchor="end">
        0
      </text>
      <text x={PAD.left - 4} y={H / 2} text-anchor="end">
        kW
      </text>
      <text x={W - PAD.right} y={H - 8} text-anchor="end">
        {duration(span)}
      </text>
      <text x={PAD.left} y={H - 8}>
        0:00
      </text>
      <polyline class="line" points={coords} />
      {points.map((p) => (
        <circle class="dot" cx={px(p)} cy={y(Number(p.w), top)} r={2.5} />
      ))}
    </svg>
  );
}

/** A day's earnings: the local date (`YYYY-MM-DD`) and the sum credited that day. */
export interface DayAmount {
  day: string;
  amount: bigint;
}

/** Local date of unix seconds `t`, `YYYY-MM-DD`. */
export function localDay(t: bigint): string {
  const d = new Date(Number(t) * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/**
 * Earnings per local day over the `days` days up to `today` (unix s), zero-filled, oldest first: the sum of
 * `amount` of each entry by the day of its `time`.
 */
export function earningsPerDay(
  entries: readonly { time: bigint; amount: bigint }[],
  today: bigint,
  days = 14,
): DayAmount[] {
  const out: DayAmount[] = [];
  for (let i = days - 1; i >= 0; i--) out.push({ day: localDay(today - BigInt(i) * 86_400n), amount: 0n });
  const byDay = new Map(out.map((d) => [d.day, d]));
  for (const e of entries) {
    const d = byDay.get(localDay(e.time));
    if (d) d.amount += e.amount;
  }
  return out;
}

/** Earnings per day as bars, the total and the best day in the text alternative. */
export function EarningsChart({ days }: { days: DayAmount[] }) {
  const max = days.reduce((m, d) => (d.amount > m ? d.amount : m), 0n);
  const total = days.reduce((s, d) => s + d.amount, 0n);
  const slot = (W - PAD.left - PAD.right) / Math.max(days.length, 1);
  const label = `Earnings per day, last ${days.length} days: ${formatAmount(total)} in all, at most ${formatAmount(max)} a day`;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} data-testid="earnings-chart">
      <title>{label}</title>
      <line class="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
      <text x={PAD.left - 4} y={PAD.top + 10} text-anchor="end">
        {formatAmount(max).replace(" EUR", "")}
      </text>
      <text x={PAD.left - 4} y={H - PAD.bottom} text-anchor="end">
        0
      </text>
      {days.map((d, i) => {
        const top = y(Number(d.amount), Number(max));
        return (
          <g>
            <rect
              class="bar"
              x={PAD.left + i * slot + slot * 0.15}
              width={slot * 0.7}
              y={top}
              height={H - PAD.bottom - top}
              data-day={d.day}
              data-amount={d.amount.toString()}
            >
              <title>{`${d.day}: ${formatAmount(d.amount)}`}</title>
            </rect>
            {(i === 0 || i === days.length - 1) && (
              <text x={PAD.left + i * slot + slot / 2} y={H - 8} text-anchor="middle">
                {d.day.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
