/**
 * `npm run bench`: circuit sizes, prover timings (pay, transact, lock, close), gas per operation with real proofs
 * (escrowed sessions included: lock, close by record or live tail, refund, with time travel), the naive "one EdDSA
 * signature per reading" comparison, the relayer under load, wallet sync at scale, EdDSA-Poseidon, 50 live
 * sessions on one station, and the web app in headless Chromium, in one run. Prints a compact report and writes
 * bench/results.json. Method notes: bench/gas.ts (gas), bench/circuits.ts (timings, naive circuit) and the header
 * of each other bench/*.ts.
 *
 * BENCH_RUNS (default 7, minimum 5) sets the number of timed proofs per circuit after one warm-up;
 * BENCH_LIVE_SESSIONS, BENCH_WEB_RUNS and BENCH_WEB_LIVE_RUNS the sizes of the later parts.
 */
import { existsSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { loadArtifacts, REPO_ROOT, shutdownProver } from "../prover/node/index.ts";
import { CHROMIUM } from "../scripts/lib/webSite.ts";
import {
  circuitFacts,
  closeInput,
  compileNaive,
  lockInput,
  payInput,
  timeProvers,
  transactInput,
  type CircuitFacts,
  type ProverTiming,
} from "./circuits.ts";
import { measureGas, type GasRow } from "./gas.ts";
import { benchEddsa } from "./eddsa.ts";
import { benchLive } from "./live.ts";
import { benchWeb, webReport, type WebBench } from "./web.ts";
import { benchWebLive, webLiveReport, type WebLiveBench } from "./webLive.ts";
import { benchRelayer } from "./relayer.ts";
import { benchSyncProcess } from "./sync.ts";
import { int, mib, ms, spread, table } from "./stats.ts";

const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 7));
const t0 = performance.now();
const load = { start: loadavg()[0]!, afterProver: NaN, end: NaN };
const log = (line = "") => console.log(line);
const progress = (what: string) =>
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s] ${what}\n`);

const manifest = (await loadArtifacts("pay")).manifest;
const ptauPower = Number(manifest.ptau.name.match(/pot(\d+)/)?.[1] ?? NaN);

// ---------------------------------------------------------------- 1. circuits and prover

progress("compiling the naive circuit (circom --O2, r1cs only)");
const naive = await compileNaive();
const CIRCUITS = ["pay", "transact", "lock", "close"] as const;
const facts: Record<string, CircuitFacts> = Object.fromEntries(
  await Promise.all(CIRCUITS.map(async (n) => [n, await circuitFacts(n)])),
);
progress(`proving: 1 warm-up each, then ${RUNS} rounds of ${CIRCUITS.join(" + ")}`);
const timing: Record<string, ProverTiming> = await timeProvers(
  [
    { name: "pay", input: payInput() },
    { name: "transact", input: transactInput() },
    { name: "lock", input: lockInput() },
    { name: "close", input: closeInput() },
  ],
  RUNS,
  (round) => progress(`round ${round + 1}/${RUNS}`),
);

load.afterProver = loadavg()[0]!;

// ---------------------------------------------------------------- 2. gas

progress("gas: in-process Hardhat chains, real proofs");
const young = await network.create();
const mature = await network.create();
const gas = await measureGas(young, mature);
await young.close();
await mature.close();
await shutdownProver();
load.end = loadavg()[0]!;

// ---------------------------------------------------------------- 3. naive comparison and ratios

const pay = facts.pay!;
const payProve = timing.pay!.prove.median;
const naiveTotal = pay.constraints - naive.perSignature + naive.constraints;
const naiveDomainPower = Math.ceil(Math.log2(naiveTotal + pay.publicInputs + 1));
const naiveProveEstimate = (payProve / pay.constraints) * naiveTotal;
const ratios = {
  naiveOverPayConstraints: naiveTotal / pay.constraints,
  payOverTransactProve: payProve / timing.transact!.prove.median,
  payOverTransactConstraints: pay.constraints / facts.transact!.constraints,
  lockOverPayProve: timing.lock!.prove.median / payProve,
  lockOverPayConstraints: facts.lock!.constraints / pay.constraints,
  closeOverPayProve: timing.close!.prove.median / payProve,
  closeOverPayConstraints: facts.close!.constraints / pay.constraints,
};

// ---------------------------------------------------------------- report

const pow2 = (n: number) => `2^${Math.log2(n)}`;
log();
log(
  `zkcharge bench: ${cpus()[0]?.model.trim() ?? "?"}, ${availableParallelism()} cores, ${mib(totalmem())} RAM, node ${process.version}`,
);
log(
  `circom ${manifest.circom}, snarkjs ${manifest.snarkjs}, Groth16/BN254, ptau ${manifest.ptau.name} (max domain 2^${ptauPower})` +
    `${manifest.insecure ? ", dev keys" : ""}; timings: median (min-max) of ${RUNS} interleaved runs after 1 warm-up`,
);
log(
  `1-min load average: ${load.start.toFixed(1)} at start, ${load.afterProver.toFixed(1)} after the timed proofs` +
    ` (${availableParallelism()} cores; a proof keeps about ${availableParallelism()} threads busy)`,
);
if (Math.max(load.start, load.afterProver) > availableParallelism() + 1) {
  log("WARNING: other processes competed for the cores; timings are inflated and noisy (rerun on an idle machine).");
}
log();
log("1. Circuits and prover");
log(
  table(
    ["circuit", "constraints", "public", "domain (free rows)", "witness", "proof", "verify", "zkey"],
    CIRCUITS.map((n) => {
      const f = facts[n]!;
      const t = timing[n]!;
      return [
        n,
        int(f.constraints),
        String(f.publicInputs),
        `${pow2(f.domainSize)} (${int(f.headroom)}, ${((100 * f.headroom) / f.domainSize).toFixed(1)}%)`,
        spread(t.witness),
        spread(t.prove),
        ms(t.verify.median),
        mib(f.zkeyBytes),
      ];
    }),
  ),
);
log(
  `   warm-up (first proof of each circuit, pay's in a fresh worker): ` +
    CIRCUITS.map(
      (n) =>
        `${n} ${timing[n]!.warmup.setupMs > 0 ? `setup ${ms(timing[n]!.warmup.setupMs)} + ` : ""}${ms(timing[n]!.warmup.proveMs)}`,
    ).join(", "),
);
log(
  "   lock: fee 0; close: mode 0 (session-end record, the pay scenario's 15 readings, bill < cap); mode 1 is the same circuit.",
);
log("   domain = 2^ceil(log2(constraints + public + 1)) from the zkey header; free rows = domain - that sum.");
log("   verify = verifyProof() wall time (worker round trip + snarkjs groth16.verify, 4 pairings).");
log();

log("2. Naive design: one EdDSA signature per reading instead of the hash chain (signatures only: a lower bound)");
log(
  table(
    ["", "constraints", "domain", "proof"],
    [
      ["1 EdDSA-Poseidon verifier (as pay's MeterSignature)", int(naive.perSignature), "", ""],
      [`naive_session.circom: ${naive.signatures} verifiers`, int(naive.constraints), "", ""],
      ["pay (hash chain + 1 signature), measured", int(pay.constraints), pow2(pay.domainSize), ms(payProve)],
      [
        `naive pay = pay - 1 + ${naive.signatures} EdDSA`,
        int(naiveTotal),
        `2^${naiveDomainPower}`,
        `~${ms(naiveProveEstimate)} ESTIMATED`,
      ],
    ],
  ),
);
log(
  `   ESTIMATED proof time = pay's measured median proof time per constraint x naive constraints (linear; FFTs scale with the`,
);
log(
  `   domain, 2^${Math.log2(pay.domainSize)} -> 2^${naiveDomainPower}, so the real figure is likely higher). Not proved here: 2^${naiveDomainPower}` +
    ` exceeds the dev ptau's 2^${ptauPower}.`,
);
log(`   The row counts only signatures: the per-reading message hashes, interval and tariff logic would come on top.`);
log();

log("3. Ratios (this run)");
log(`   naive pay / pay constraints: ${ratios.naiveOverPayConstraints.toFixed(2)}x`);
log(
  `   pay / transact proof time:   ${ratios.payOverTransactProve.toFixed(2)}x  (constraints ${ratios.payOverTransactConstraints.toFixed(2)}x)`,
);
log(
  `   lock / pay proof time:       ${ratios.lockOverPayProve.toFixed(2)}x  (constraints ${ratios.lockOverPayConstraints.toFixed(2)}x)`,
);
log(
  `   close / pay proof time:      ${ratios.closeOverPayProve.toFixed(2)}x  (constraints ${ratios.closeOverPayConstraints.toFixed(2)}x)`,
);
log();

const where = (r: GasRow) =>
  r.leaves === undefined
    ? (r.note ?? "")
    : `${r.treeSize} -> leaf ${r.leaves
        .map(
          (i) =>
            `${i} (${
              i
                .toString(2)
                .split("")
                .filter((b) => b === "1").length
            })`,
        )
        .join(", ")}` + (r.note ? `; ${r.note}` : "");
log("4. Gas (in-process Hardhat chain, Prague rules, real proofs; tx gasUsed incl. 21k + calldata)");
log("   young pool (SDK flow, first leaves: few hashes, many fresh 22.1k SSTOREs)");
log(
  table(
    ["   operation", "gas", "note-tree size -> leaf (popcount); context"],
    gas.young.map((r) => [`   ${r.op}`, int(r.gas), where(r)]),
  ),
);
log(
  "   escrowed sessions, same young pool, continued (the CPO's withdrawal above comes after them; deadlines reached with",
);
log(
  "   networkHelpers.time.increaseTo; every lock writes 3 fresh escrow slots and a nullifier, every close a sessionPaid flag)",
);
log(
  table(
    ["   operation", "gas", "note-tree size -> leaf (popcount); context"],
    gas.escrow.map((r) => [`   ${r.op}`, int(r.gas), where(r)]),
  ),
);
log(
  table(
    ["   registry", "gas", "context"],
    gas.registry.map((r) => [`   ${r.op}`, int(r.gas), r.note ?? ""]),
  ),
);
log(
  table(
    ["   verifier", "estimateGas - intrinsic", "gasUsed - intrinsic", "public inputs"],
    gas.verifiers.map((v) => [
      `   ${v.circuit}Verifier.verifyProof`,
      int(v.execution),
      int(v.executionUsed),
      String(v.publicInputs),
    ]),
  ),
);
log(
  "   (intrinsic = 21000 + EIP-2028 calldata gas of the same call; estimateGas adds the 63/64-rule margin of the pairing call)",
);
const gasOf = (rows: GasRow[], op: string) => {
  const row = rows.find((r) => r.op === op);
  if (!row) throw new Error(`bench: no gas row "${op}"`);
  return row.gas;
};
const verifierUsed = (c: string) => gas.verifiers.find((v) => v.circuit === c)!.executionUsed;
const withoutVerifier = [
  ["pay, fee 0", gasOf(gas.young, "pay, fee 0"), verifierUsed("pay")],
  ["lock, fee 0", gasOf(gas.escrow, "lock, fee 0"), verifierUsed("lock")],
  ["close mode 0", gasOf(gas.escrow, "close mode 0 (session-end record)"), verifierUsed("close")],
] as const;
log(
  `   without the verifier (gasUsed - verifyProof gasUsed - intrinsic): ` +
    withoutVerifier.map(([op, g, v]) => `${op} ${int(g - v)}`).join(", "),
);
log();
log(
  "   mature pool (all tree and ring slots non-zero, CPO balance non-zero; leaf index 0b1010..10 = average popcount)",
);
log(
  table(
    ["   operation", "gas", "note-tree size -> leaf (popcount); context"],
    [...gas.mature, ...gas.matureEscrow].map((r) => [`   ${r.op}`, int(r.gas), where(r)]),
  ),
);
const payMature = gasOf(gas.mature, "pay, fee 0 @ 2^20-leaf pool");
const lockMature = gasOf(gas.matureEscrow, "lock, fee 0 @ 2^20-leaf pool");
const escrowSettle = lockMature + gasOf(gas.matureEscrow, "close mode 0 @ 2^20-leaf pool");
const escrowRefund = lockMature + gasOf(gas.matureEscrow, "refund @ 2^20-leaf pool");
log(
  `   escrowed session @ 2^20 (each transaction inserts one leaf of popcount 10): lock + close mode 0 = ${int(escrowSettle)}` +
    ` gas,\n   ${(escrowSettle / payMature).toFixed(2)}x pay, fee 0 (${int(payMature)}); lock + refund = ${int(escrowRefund)} gas`,
);
const f = gas.perHash;
log(
  `   per 1-bit of the inserted leaf index (one PoseidonT3 + loop): ${int(f.slope)} gas` +
    ` (least squares over ${f.points.length} deposits at popcount ${f.points[0]!.popcount}..${f.points.at(-1)!.popcount},` +
    ` depth 21; max residual ${int(f.maxResidual)} gas)`,
);
log(
  table(
    ["   pay, fee 0, at tree size", "avg popcount", "projected", "measured", "diff"],
    gas.projection.map((p, i) => [
      `   2^${p.depth}${i === 0 ? " (anchor)" : ""}`,
      String(p.popcount),
      int(p.projected),
      int(p.measured),
      `${p.measured - p.projected >= 0 ? "+" : ""}${int(p.measured - p.projected)}`,
    ]),
  ),
);
const anchor = gas.projection[0]!;
const perLevel = gas.projection.slice(1).map((p) => (p.measured - p.projected) / (p.depth - anchor.depth));
log(
  `   projected = pay @ 2^${anchor.depth} + ${int(f.slope)} x (d/2 - ${anchor.popcount}); diff = measured - projected` +
    ` = ${perLevel.map((g) => g.toFixed(0)).join(" / ")} gas per extra tree level (insert loop over 0-bits)`,
);
log();

// Services on loopback: the relayer's throughput (real processes: a hardhat node and the relayer, real proofs).
const relayer = await benchRelayer({ jobs: 12, log: (m) => log(`   ${m}`) });
log("relayer throughput (hardhat node with automine, loopback, proofs made beforehand):");
log(
  `   ${relayer.jobs} withdrawals in ${(relayer.wallMs / 1000).toFixed(1)} s from first POST to last mined = ` +
    `${relayer.jobsPerMinute.toFixed(1)} jobs/min; POST /relay (every check, stored) median ${ms(relayer.acceptMedianMs)}, max ${ms(relayer.acceptMaxMs)}`,
);

// Wallet sync at scale: a pool of 100,000 notes on anvil (a fixture contract emits the pool's events in batches),
// synced by a wallet in a process of its own.
const sync = await benchSyncProcess(100_000, (m) => log(`   ${m}`));
log(`wallet sync, ${int(sync.notes)} notes over ${int(sync.blocks)} blocks (anvil, loopback):`);
log(
  `   cold (from the deployment block) median ${ms(sync.cold.median)} (${sync.cold.getLogsCalls} eth_getLogs, widest ` +
    `${int(sync.cold.widestRange)} blocks); warm median ${ms(sync.warm.median)}; tree of ${int(sync.notes)} leaves ${ms(sync.treeBuildMs)}; ` +
    `trial decryption ${sync.decryptUsPerNote.batched.toFixed(0)} µs/note`,
);
log(
  `   restart from the file store ${ms(sync.restart.loadAndSyncMs)} (${sync.restart.getLogsCalls} eth_getLogs, ` +
    `${int(sync.restart.trialDecrypted)} leaves decrypted again)`,
);

// EdDSA-Poseidon, what every reading costs three times (the charger signs it, the station and the driver check it).
const eddsa = benchEddsa();
log(
  `EdDSA-Poseidon (${eddsa.rounds} rounds, medians): sign ${ms(eddsa.ours.signMs.median)}, check ` +
    `${ms(eddsa.ours.checkMs.median)} (sdk/meter/eddsa.ts); the reference package ${ms(eddsa.reference.signMs.median)} ` +
    `and ${ms(eddsa.reference.checkMs.median)}: ${(eddsa.reference.signMs.median / eddsa.ours.signMs.median).toFixed(0)}x ` +
    `and ${(eddsa.reference.checkMs.median / eddsa.ours.checkMs.median).toFixed(0)}x`,
);

// Live sessions under load: one station process, the chargers and their drivers over OCPP and the driver API, 50 at
// a reading per second each (the live issue's figure); BENCH_LIVE_SESSIONS (1 to 50) asks for fewer.
const live = await benchLive({
  sessions: Number(process.env.BENCH_LIVE_SESSIONS ?? 50),
  log: (m) => log(`   ${m}`),
});
log(
  `live sessions: ${live.sessions} at once on one station, a reading per second each, ${live.windowSeconds} s (loopback):`,
);
log(
  `   ${int(live.readings)} readings verified by the drivers: latency charger -> station -> driver p50 ${ms(live.latencyP50Ms)}, ` +
    `p99 ${ms(live.latencyP99Ms)}, max ${ms(live.latencyMaxMs)}; lost ${live.lost}, refused ${live.refused}; ` +
    `station CPU ${live.stationCpuPercent} % of a core, peak RSS ${live.stationPeakRssMiB} MiB`,
);
log(
  `   plug-out to close submitted (stop, session end, close proved by the driver, checked and mined by the station): ` +
    `median ${ms(live.stopToCloseMedianMs)} over ${live.stopToCloseMs.length}`,
);

// The web app in headless Chromium (Debian's package; skipped, saying so, where it is not installed): pay proofs in
// the browser beside the Node prover in the same run, load sizes, time to show the explorer; then live sessions
// with their lock and close proved in the browser.
let web: WebBench | undefined;
let webLive: WebLiveBench | undefined;
if (existsSync(CHROMIUM)) {
  log();
  web = await benchWeb(Math.max(1, Number(process.env.BENCH_WEB_RUNS ?? 3)), (m) => log(`   ${m}`));
  log(webReport(web));
  log();
  webLive = await benchWebLive(Math.max(1, Number(process.env.BENCH_WEB_LIVE_RUNS ?? 2)), (m) => log(`   ${m}`));
  log(webLiveReport(webLive));
} else {
  log(`web app: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set ZKCHARGE_CHROMIUM)`);
}

log();
log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s; results in bench/results.json`);

writeFileSync(
  join(REPO_ROOT, "bench", "results.json"),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model.trim(),
        cores: availableParallelism(),
        memoryBytes: totalmem(),
        node: process.version,
      },
      toolchain: {
        circom: manifest.circom,
        snarkjs: manifest.snarkjs,
        ptau: manifest.ptau.name,
        ptauMaxDomainPower: ptauPower,
        insecure: manifest.insecure,
      },
      runs: RUNS,
      loadAverage1m: load,
      circuits: Object.fromEntries(CIRCUITS.map((n) => [n, { ...facts[n], timingMs: timing[n] }])),
      naive: {
        ...naive,
        payConstraints: pay.constraints,
        naivePayConstraints: naiveTotal,
        naiveDomainPower,
        provable: naiveDomainPower <= ptauPower,
        proveMsEstimated: naiveProveEstimate,
        estimateMethod:
          "pay median proof time / pay constraints x naive constraints (linear); signatures only, lower bound",
      },
      ratios,
      gas,
      relayer,
      sync,
      eddsa,
      live,
      web,
      webLive,
      benchSeconds: (performance.now() - t0) / 1000,
    },
    (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    2,
  ) + "\n",
);
// Everything is written: leave even if a worker or a socket of the parts above still holds the event loop.
process.exit(0);
