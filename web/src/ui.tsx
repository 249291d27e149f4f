/** Small UI pieces every screen uses: a status line, a busy/done/error operation, a ticking clock. */
import { useEffect, useRef, useState } from "preact/hooks";
import { plainError } from "./format.ts";

/** A form's status line: what is going on, or what went wrong, in plain words. */
export function Status({ busy, error, done }: { busy?: string; error?: string; done?: string }) {
  if (error !== undefined)
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  if (busy !== undefined)
    return (
      <p role="status" aria-live="polite" class="busy">
        {busy}
      </p>
    );
  if (done !== undefined)
    return (
      <p role="status" aria-live="polite" class="done">
        {done}
      </p>
    );
  return null;
}

export type Op = { busy?: string; error?: string; done?: string };

/** Runs `task` with a busy message, then a done message or the error in plain words. */
export function useOp(): [Op, (busy: string, task: () => Promise<string | undefined>) => Promise<void>] {
  const [op, setOp] = useState<Op>({});
  const run = async (busy: string, task: () => Promise<string | undefined>) => {
    setOp({ busy });
    try {
      setOp({ done: await task() });
    } catch (err) {
      setOp({ error: plainError(err) });
    }
  };
  return [op, run];
}

/** Wall-clock seconds since `start`, ticking while `on`. */
export function useElapsed(on: boolean): number {
  const [s, setS] = useState(0);
  const start = useRef(0);
  useEffect(() => {
    if (!on) return;
    start.current = performance.now();
    setS(0);
    const t = setInterval(() => setS(Math.floor((performance.now() - start.current) / 1000)), 500);
    return () => clearInterval(t);
  }, [on]);
  return s;
}

/** The proving line: an indeterminate progress bar and the seconds so far. */
export function Proving({ what, seconds }: { what: string; seconds: number }) {
  return (
    <p role="status" aria-live="polite" class="busy">
      <progress aria-label="Proving" /> {what} {seconds} s
    </p>
  );
}
