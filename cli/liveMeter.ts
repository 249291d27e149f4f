/**
 * The wallet's live meter in the terminal: energy (kWh), power (kW, over the last interval), the running cost
 * (the bill the verified readings make) and what is left of the escrow's cap. On a terminal one line is redrawn
 * in place; otherwise (a pipe, a log file, a test) each reading prints a plain line.
 */
import { formatAmount, type Bill, type Point } from "../sdk/index.ts";
import { kwh } from "./format.ts";

/** Prints the meter line for each verified reading. */
export class LiveMeter {
  readonly #cap: bigint;
  readonly #tty: boolean;
  readonly #write: (text: string) => void;
  #previous: Point | undefined;
  #drawn = false;

  /**
   * @param cap the escrow's cap, token base units
   * @param out where to write (default standard output; redrawn in place only if it is a terminal)
   */
  constructor(cap: bigint, out: NodeJS.WriteStream = process.stdout) {
    this.#cap = cap;
    this.#tty = out.isTTY === true;
    this.#write = (text) => out.write(text);
  }

  /** The line for `reading` (seqNo `seqNo`, record kind `kind`) with the bill so far. */
  line(seqNo: number, kind: string, reading: Point, start: Point, bill: Bill | undefined): string {
    const prev = this.#previous;
    const dt = prev ? reading.t - prev.t : 0n;
    const watts = prev && dt > 0n ? ((reading.e - prev.e) * 3600n) / dt : 0n;
    this.#previous = reading;
    const cost = bill?.amount ?? 0n;
    const left = this.#cap > cost ? this.#cap - cost : 0n;
    const kw = `${watts / 1000n}.${((watts % 1000n) / 10n).toString().padStart(2, "0")} kW`;
    return (
      `#${seqNo} ${kind.padEnd(5)} ${kwh(reading.e - start.e)}  ${kw}  ` +
      `${reading.t - start.t} s  cost ${formatAmount(cost)}  cap left ${formatAmount(left)}`
    );
  }

  /** Shows the line for a verified reading. */
  show(seqNo: number, kind: string, reading: Point, start: Point, bill: Bill | undefined): void {
    const text = this.line(seqNo, kind, reading, start, bill);
    if (this.#tty) {
      this.#write(`\r\x1b[2K${text}`);
      this.#drawn = true;
    } else this.#write(`  meter ${text}\n`);
  }

  /** Ends the in-place line before other output (a message, the summary). */
  break(): void {
    if (this.#drawn) this.#write("\n");
    this.#drawn = false;
  }
}
