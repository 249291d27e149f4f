/**
 * Circuit-side measurements: prover timings (witness, proof, local verify), the proving key's header (domain
 * size), and the naive "one EdDSA signature per reading" comparison circuit's constraint count.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { generateProof, loadArtifacts, verifyProof, type CircuitInput } from "../prover/index.ts";
import { buildCloseWitness } from "../sdk/proofs/closeInput.ts";
import { buildLockWitness } from "../sdk/proofs/lockInput.ts";
import { buildPayWitness } from "../sdk/proofs/payInput.ts";
import { buildTransactWitness } from "../sdk/proofs/transactInput.ts";
import { CIRCOM_VERSION, REPO_ROOT } from "../scripts/lib/circuits.ts";
import { randomFieldElement } from "../sdk/core/field.ts";
import { precommitment } from "../sdk/core/hash.ts";
import { DriverIdentity } from "../sdk/core/identity.ts";
import { Note } from "../sdk/core/note.ts";
import { NoteTree } from "../sdk/core/tree.ts";
import { SCENARIO_NONCES, SESSION_START, payScenario } from "../test/fixtures/session.ts";
import { sample, type Sample } from "./stats.ts";

// ------------------------------------------------------------------ proving key

/** What the Groth16 zkey header says about the circuit. */
export interface ZkeyHeader {
  nVars: number;
  nPublic: number;
  /** FFT domain size: the smallest power of two >= constraints + public inputs + 1 (snarkjs zkey_new). */
  domainSize: number;
}

/**
 * Reads the Groth16 header (section 2) of a snarkjs `.zkey`: "zkey", version, section count, then sections of
 * (type u32, size u64, data); section 2 = n8q, q, n8r, r, nVars, nPublic, domainSize, ... (little endian).
 */
export async function readZkeyHeader(path: string): Promise<ZkeyHeader> {
  const fd = await open(path, "r");
  try {
    const read = async (pos: number, len: number) => {
      const buf = Buffer.alloc(len);
      await fd.read(buf, 0, len, pos);
      return buf;
    };
    const head = await read(0, 12);
    if (head.toString("ascii", 0, 4) !== "zkey") throw new Error(`${path} is not a zkey file`);
    const nSections = head.readUInt32LE(8);
    let pos = 12;
    for (let i = 0; i < nSections; i++) {
      const sh = await read(pos, 12);
      const type = sh.readUInt32LE(0);
      const size = Number(sh.readBigUInt64LE(4));
      pos += 12;
      if (type === 2) {
        const n8q = (await read(pos, 4)).readUInt32LE(0);
        const n8r = (await read(pos + 4 + n8q, 4)).readUInt32LE(0);
        const rest = await read(pos + 8 + n8q + n8r, 12);
        return { nVars: rest.readUInt32LE(0), nPublic: rest.readUInt32LE(4), domainSize: rest.readUInt32LE(8) };
      }
      pos += size;
    }
    throw new Error(`${path}: no Groth16 header section`);
  } finally {
    await fd.close();
  }
}

// ------------------------------------------------------------------ prover timings

/** Timings of one circuit (milliseconds). */
export interface ProverTiming {
  warmup: { setupMs: number; witnessMs: number; proveMs: number };
  witness: Sample;
  prove: Sample;
  /** `verifyProof` wall time in the caller (a worker round trip around `snarkjs.groth16.verify`). */
  verify: Sample;
}

/** An honest pay witness input (the payScenario session: 15 readings across the 17:00 band boundary). */
export function payInput(): CircuitInput {
  return buildPayWitness(payScenario().request).input;
}

/** An honest transact witness input: a merge of two notes of one identity (both inputs real). */
export function transactInput(): CircuitInput {
  const alice = DriverIdentity.random();
  const a = Note.random(alice.commitment, 30_000_000n);
  const b = Note.random(alice.commitment, 12_500_000n);
  const tree = new NoteTree([11n, 22n, a.commitment, 33n, b.commitment, 44n]);
  const own = (value: bigint) => ({ precommitment: precommitment(alice.commitment, randomFieldElement()), value });
  return buildTransactWitness({
    secretScalar: alice.secretScalar,
    inputs: [
      { note: a, path: tree.path(tree.indexOf(a.commitment)) },
      { note: b, path: tree.path(tree.indexOf(b.commitment)) },
    ],
    outputs: [own(a.value + b.value), own(0n)],
    extAmount: 0n,
    fee: 0n,
    extDataHash: 4242n,
  }).input;
}

/**
 * An honest lock witness input: the payScenario driver's 50 EUR note locks a 20 EUR cap for the scenario session
 * (fee 0, settle deadline 4 h and claim deadline 28 h after the session start).
 */
export function lockInput(): CircuitInput {
  const s = payScenario();
  return buildLockWitness({
    secretScalar: s.identity.secretScalar,
    note: s.note,
    notePath: s.request.notePath,
    cap: 20_000_000n,
    fee: 0n,
    cpoId: s.session.cpoId,
    ...SCENARIO_NONCES,
    sessionId: s.session.sessionId,
    settleDeadline: SESSION_START + 4n * 3600n,
    claimDeadline: SESSION_START + 28n * 3600n,
    changeBlinding: randomFieldElement(),
    refundBlinding: randomFieldElement(),
    extDataHash: 4242n,
  }).input;
}

/**
 * An honest close witness input, mode 0 (the session-end record): the payScenario session (15 readings, the same
 * chain pay proves) against a 20 EUR escrow for it, so the bill is below the cap and a refund is committed.
 * Mode 1 (live tail) is the same circuit, so the same constraints and proving time.
 */
export function closeInput(): CircuitInput {
  const s = payScenario();
  return buildCloseWitness({
    escrow: {
      refundPrecommitment: precommitment(s.identity.commitment, randomFieldElement()),
      cap: 20_000_000n,
      cpoId: s.session.cpoId,
      sessionId: s.session.sessionId,
    },
    record: s.session,
    meterPath: s.request.meterPath,
    extDataHash: 4242n,
  }).input;
}

/**
 * For each circuit one warm-up proof (worker start, snarkjs import, curve build, wasm compile), then `runs` rounds
 * that prove each circuit once in turn (interleaved, so a load change on a shared machine hits every circuit
 * alike and their ratio stays fair), each proof verified locally. The prover runs in the default worker pool,
 * exactly as the SDK uses it.
 */
export async function timeProvers(
  circuits: { name: string; input: CircuitInput }[],
  runs: number,
  onRound: (round: number) => void = () => {},
): Promise<Record<string, ProverTiming>> {
  const acc = new Map<
    string,
    { warmup: ProverTiming["warmup"]; witness: number[]; prove: number[]; verify: number[] }
  >();
  for (const { name, input } of circuits) {
    const first = await generateProof(name, input);
    if (!(await verifyProof(name, first.proof, first.publicSignals)))
      throw new Error(`${name}: warm-up proof does not verify`);
    acc.set(name, {
      warmup: { setupMs: first.setupMs, witnessMs: first.witnessMs, proveMs: first.proveMs },
      witness: [],
      prove: [],
      verify: [],
    });
  }
  for (let i = 0; i < runs; i++) {
    onRound(i);
    for (const { name, input } of circuits) {
      const a = acc.get(name)!;
      const p = await generateProof(name, input);
      a.witness.push(p.witnessMs);
      a.prove.push(p.proveMs);
      const t0 = performance.now();
      const ok = await verifyProof(name, p.proof, p.publicSignals);
      a.verify.push(performance.now() - t0);
      if (!ok) throw new Error(`${name}: proof ${i} does not verify`);
    }
  }
  return Object.fromEntries(
    [...acc].map(([name, a]) => [
      name,
      {
        warmup: a.warmup,
        witness: sample(a.witness),
        prove: sample(a.prove),
        verify: sample(a.verify),
      },
    ]),
  );
}

/** Static facts of a built circuit: manifest constraints, public inputs, zkey size and domain. */
export interface CircuitFacts {
  constraints: number;
  publicInputs: number;
  domainSize: number;
  /** domainSize - (constraints + public inputs + 1): rows left before the next power of two. */
  headroom: number;
  zkeyBytes: number;
  wasmBytes: number;
}

export async function circuitFacts(name: string): Promise<CircuitFacts> {
  const art = await loadArtifacts(name);
  const header = await readZkeyHeader(art.zkeyPath);
  if (header.nPublic !== art.vkey.nPublic)
    throw new Error(`${name}: zkey has ${header.nPublic} public inputs, vkey ${art.vkey.nPublic}`);
  const constraints = art.circuit.constraints;
  return {
    constraints,
    publicInputs: header.nPublic,
    domainSize: header.domainSize,
    headroom: header.domainSize - (constraints + header.nPublic + 1),
    zkeyBytes: (await stat(art.zkeyPath)).size,
    wasmBytes: (await stat(art.wasmPath)).size,
  };
}

// ------------------------------------------------------------------ naive comparison circuit

const CIRCOM2 = join(REPO_ROOT, "node_modules", ".bin", "circom2");
const NAIVE_DIR = join(REPO_ROOT, "bench", "naive");
const NAIVE_OUT = join(REPO_ROOT, "build", "tmp", "bench");

/** r1cs-only compile with the pinned circom (--O2, circomlib from node_modules, paths relative to the repo). */
function compileR1cs(mainPath: string): Promise<{ constraints: number; ms: number }> {
  const t0 = performance.now();
  const args = [
    relative(REPO_ROOT, mainPath),
    "--r1cs",
    "--O2",
    "-l",
    "node_modules",
    "-o",
    relative(REPO_ROOT, NAIVE_OUT),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(CIRCOM2, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      // eslint-disable-next-line no-control-regex -- strips the ANSI colour codes circom prints
      output = output.replace(/\x1b\[[0-9;]*m/g, "");
      if (code !== 0 || !output.includes("Everything went okay")) {
        reject(new Error(`circom failed on ${mainPath}:\n${output}`));
        return;
      }
      const count = (label: string) => Number(output.match(new RegExp(`^${label}: (\\d+)`, "m"))?.[1] ?? NaN);
      resolve({
        constraints: count("non-linear constraints") + count("linear constraints"),
        ms: performance.now() - t0,
      });
    });
  });
}

/** Constraint counts of the naive design. */
export interface NaiveCircuit {
  /** Signatures per session in the naive design (= pay's N_POINTS). */
  signatures: number;
  /** bench/naive/naive_session.circom: `signatures` EdDSA-Poseidon verifications. */
  constraints: number;
  /** NaiveSession(1): one EdDSAPoseidonVerifier wired like pay's MeterSignature. */
  perSignature: number;
  compileMs: number;
}

/**
 * Compiles bench/naive/naive_session.circom (N = 16 signatures) and a generated NaiveSession(1) main in parallel; the
 * single-signature count is what pay's one MeterSignature costs.
 */
export async function compileNaive(): Promise<NaiveCircuit> {
  const version = spawnSync(CIRCOM2, ["--version"], { cwd: REPO_ROOT, encoding: "utf8" }).stdout.trim();
  if (!version.endsWith(CIRCOM_VERSION)) throw new Error(`circom2 reports "${version}", expected ${CIRCOM_VERSION}`);
  mkdirSync(NAIVE_OUT, { recursive: true });
  const single = join(NAIVE_OUT, "naive_single.circom");
  writeFileSync(
    single,
    [
      `pragma circom ${CIRCOM_VERSION};`,
      "// Generated by bench/circuits.ts: one signature of the naive design.",
      `include "${relative(NAIVE_OUT, join(NAIVE_DIR, "naive_lib.circom"))}";`,
      "component main = NaiveSession(1);",
      "",
    ].join("\n"),
  );
  const main = join(NAIVE_DIR, "naive_session.circom");
  const signatures = Number(readFileSync(main, "utf8").match(/component main\s*=\s*NaiveSession\((\d+)\)/)?.[1] ?? NaN);
  if (!Number.isInteger(signatures)) throw new Error(`${main}: no "component main = NaiveSession(N)"`);
  const t0 = performance.now();
  const [all, one] = await Promise.all([compileR1cs(main), compileR1cs(single)]);
  return { signatures, constraints: all.constraints, perSignature: one.constraints, compileMs: performance.now() - t0 };
}
