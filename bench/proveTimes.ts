/**
 * Proof times of pay and close alone (`npx tsx bench/proveTimes.ts [runs]`): the figure to quote after a
 * session-bill circuit change without running the whole `npm run bench`. Same timing code as the bench.
 */
import { closeInput, payInput, timeProvers } from "./circuits.ts";

const runs = Number(process.argv[2] ?? 5);
const timings = await timeProvers(
  [
    { name: "pay", input: payInput() },
    { name: "close", input: closeInput() },
  ],
  runs,
);
for (const [name, t] of Object.entries(timings)) {
  console.log(
    `${name}: prove median ${t.prove.median.toFixed(0)} ms, witness ${t.witness.median.toFixed(0)} ms, verify ${t.verify.median.toFixed(0)} ms (${runs} runs)`,
  );
}
process.exit(0);
