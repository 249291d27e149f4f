/**
 * Development powers of tau: where the build finds one, how it makes one when a clone has none, and how a
 * production build recognises one to refuse it.
 *
 * A development ptau is `powersoftau new` followed by one public beacon and `prepare phase2`: deterministic (the
 * same power always gives the same bytes) and insecure (anyone can recompute tau from the public beacon). snarkjs
 * draws tau from the beacon alone (`keyFromBeacon` seeds its RNG with the beacon hash only), so tau, and with it
 * the point tau*G1 stored second in the file's tauG1 section, is the same at every power: that point identifies a
 * development ptau of any size without regenerating it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import * as snarkjs from "snarkjs";
import { fileHash } from "./circuits.ts";

/** The development ptau shipped beside the repository (2^16, made by contribution with public entropy). */
export const SHARED_DEV_PTAU = {
  /** Relative to the repository root. */
  relativePath: join("..", "shared", "ptau", "dev-pot16.ptau"),
  sha256: "236b5b3503bb84d60f3274c6bc1896c3be78cce012f0baf4d7562f67c8c91437",
};

/** The public beacon of generated development ptaus ("zkcharge dev ptau insecure v1", zero-padded to 32 bytes). */
export const DEV_PTAU_BEACON = "7a6b63686172676520646576207074617520696e736563757265207631000000";
const DEV_PTAU_BEACON_ITERATIONS_EXP = 10;

/** Smallest power generated: below it snarkjs gains nothing and tiny circuits would each want their own file. */
const MIN_DEV_POWER = 8;

/**
 * tau*G1 (uncompressed, Montgomery form as stored) of every known development ptau: the shared file's and the
 * generated ones' (the same at every power, see the header). A production build refuses a ptau holding either.
 */
const DEV_TAU_G1 = new Set<string>([
  // ../shared/ptau/dev-pot16.ptau
  "4cc14129150b773deabf7374eae44acd7118c9d86a6e7ff56b3e78fc60b1a72b18e5f6a7e48c04bbc17aea1462673a39ed86c0888c6d3c7de262ae086973cc03",
  // every ptau made by generateDevPtau
  "989a75faa35cd2acc6708c6375d0bcdd51465312427bba612a9a25c3994bb4157184a5f9983b65d802f9362cfc0666e6bfcf0d7183e92dcdf328d890eb9f5711",
]);

/** Where generated development ptaus are cached under an artifacts root (git-ignored). */
export function devPtauDir(root: string): string {
  return join(root, "build", "ptau");
}

/**
 * The ptau power a circuit needs, as `snarkjs zkey new` computes it: the smallest k with
 * 2^k > constraints + public inputs and outputs.
 */
export function requiredPower(constraints: number, publicInputs: number): number {
  return Math.floor(Math.log2(constraints + publicInputs)) + 1;
}

/** What the build needs from a ptau file's header and first sections. */
export interface PtauInfo {
  /** The power the file holds points for (after any truncation). */
  power: number;
  /** The power of the ceremony it came from. */
  ceremonyPower: number;
  /** Hex of tau*G1 as stored (the second point of section 2). */
  tauG1: string;
}

/** Reads a ptau's header and tau*G1 without loading the file (a 2^16 ptau is about 72 MB). */
export function readPtauInfo(path: string): PtauInfo {
  const fd = openSync(path, "r");
  try {
    const read = (position: number, length: number): Buffer => {
      const buffer = Buffer.alloc(length);
      if (readSync(fd, buffer, 0, length, position) !== length) throw new Error(`${path}: truncated ptau file`);
      return buffer;
    };
    const head = read(0, 12);
    if (head.toString("latin1", 0, 4) !== "ptau") throw new Error(`${path}: not a powers of tau file`);
    const sectionCount = head.readUInt32LE(8);
    const sections = new Map<number, { position: number; size: number }>();
    let position = 12;
    for (let i = 0; i < sectionCount; i++) {
      const entry = read(position, 12);
      const size = Number(entry.readBigUInt64LE(4));
      sections.set(entry.readUInt32LE(0), { position: position + 12, size });
      position += 12 + size;
    }
    const header = sections.get(1);
    const tauG1 = sections.get(2);
    if (!header || !tauG1) throw new Error(`${path}: ptau file without header or tauG1 section`);
    const n8 = read(header.position, 4).readUInt32LE(0);
    const powers = read(header.position + 4 + n8, 8);
    const pointSize = 2 * n8;
    if (tauG1.size < 2 * pointSize) throw new Error(`${path}: ptau tauG1 section too short`);
    return {
      power: powers.readUInt32LE(0),
      ceremonyPower: powers.readUInt32LE(4),
      tauG1: read(tauG1.position + pointSize, pointSize).toString("hex"),
    };
  } finally {
    closeSync(fd);
  }
}

/** True when `path` is a development ptau (the shared file, or one generateDevPtau made, at any power). */
export function isDevPtau(path: string): boolean {
  return fileHash(path) === SHARED_DEV_PTAU.sha256 || DEV_TAU_G1.has(readPtauInfo(path).tauG1);
}

/**
 * A development ptau of at least `power` already on this machine: the shared one beside the repository, else
 * the smallest cached one under `build/ptau/`.
 */
export function findDevPtau(root: string, power: number): string | undefined {
  const shared = join(root, SHARED_DEV_PTAU.relativePath);
  if (power <= 16 && existsSync(shared)) return shared;
  const dir = devPtauDir(root);
  if (!existsSync(dir)) return undefined;
  const cached = readdirSync(dir)
    .map((file) => ({ file, power: Number(/^dev-pot(\d+)\.ptau$/.exec(file)?.[1]) }))
    .filter((entry) => entry.power >= power)
    .sort((a, b) => a.power - b.power);
  return cached[0] && join(dir, cached[0].file);
}

/** Rough time to generate a development ptau here, from measurements on 2 cores (2^8: 4 s, 2^15: 10 min). */
export function estimatedSeconds(power: number): number {
  return Math.max(4, Math.round(624 * 2 ** (power - 15)));
}

/** The power of the development ptau generated for circuits needing `power`. */
export function devPtauPower(power: number): number {
  return Math.max(power, MIN_DEV_POWER);
}

/**
 * Makes the development ptau of {@link devPtauPower} at `build/ptau/dev-pot<k>.ptau` under `root` (written to a
 * temporary name and renamed, so an interrupted run leaves no half file behind) and returns its path.
 */
export async function generateDevPtau(root: string, power: number): Promise<string> {
  const k = devPtauPower(power);
  const out = join(devPtauDir(root), `dev-pot${k}.ptau`);
  const tmp = join(root, "build", "tmp", "ptau");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  await snarkjs.powersOfTau.newAccumulator(curve, k, join(tmp, "0.ptau"));
  const name = "zkcharge development ptau (insecure: public beacon)";
  await snarkjs.powersOfTau.beacon(
    join(tmp, "0.ptau"),
    join(tmp, "1.ptau"),
    name,
    DEV_PTAU_BEACON,
    DEV_PTAU_BEACON_ITERATIONS_EXP,
  );
  await snarkjs.powersOfTau.preparePhase2(join(tmp, "1.ptau"), join(tmp, "2.ptau"));
  renameSync(join(tmp, "2.ptau"), out);
  rmSync(tmp, { recursive: true, force: true });
  return out;
}
