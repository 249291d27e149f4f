/**
 * Every protocol hash and constant equal in TypeScript (sdk/), circom (circuits/lib) and Solidity (contracts/).
 *  - constants: circuits/lib/constants.circom and contracts/libraries/Constants.sol read as text (and the Solidity
 *    values read back from a deployed contract) against sdk/constants.ts and the tag table of docs/protocol.md;
 *  - circuit: test/circuits/fixtures/hash_vectors.circom instantiates the real templates of circuits/lib and outputs
 *    each hash; compiled once here (circom2), its outputs compared with sdk/hash.ts and sdk/tree.ts;
 *  - Solidity: contracts/test/HashVectors.sol (Constants + the poseidon-solidity libraries + both tree libraries),
 *    the real Registry (meter leaf, meter root, tariff hash) and the real Pool (deposit commitment, note root,
 *    hashExtData), against the SDK.
 * Fixed vectors use the edge values 0, 2^k - 1 and r - 1; fast-check adds random ones.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { getAddress, hexlify, randomBytes, ZeroAddress } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";
import type * as BabyJubjub from "@zk-kit/baby-jubjub";
import { REPO_ROOT } from "../../prover/node/index.ts";
import { WitnessError } from "../../prover/errors.ts";
import { BN254_R, normalizeInput, type CircuitInput } from "../../prover/field.ts";
import { compileWitnessWasm, computeWitness } from "../../prover/witness.ts";
import {
  BABYJUB_SUBGROUP_ORDER,
  BILL_DIVISOR,
  BITS,
  FIELD_MODULUS,
  METER_TREE_DEPTH,
  NOTE_TREE_DEPTH,
  N_POINTS,
  ROOT_HISTORY_LEAVES,
  SECONDS_PER_DAY,
  TAGS,
} from "../../sdk/core/constants.ts";
import { deployZkcharge, type ZkchargeDeployment } from "../../dev/deploy.ts";
import { toTariffStruct } from "../../sdk/actors/chain.ts";
import {
  chainFinal,
  chainStart,
  chainStep,
  durationLimitWords,
  extDataHash,
  identityCommitment,
  liveTail,
  meterLeaf,
  noteCommitment,
  nullifier,
  precommitment,
  tariffHash,
} from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import type { DurationLimit, Tariff } from "../../sdk/tariff/tariff.ts";
import { MerkleTree, rootFromPath } from "../../sdk/core/tree.ts";
import type { HashVectors } from "../../types/ethers-contracts/index.js";

const babyjub = createRequire(import.meta.url)("@zk-kit/baby-jubjub") as typeof BabyJubjub;
const { ethers } = await network.create();

const R = FIELD_MODULUS;
const L = BABYJUB_SUBGROUP_ORDER;
const max = (bits: number) => (1n << BigInt(bits)) - 1n;
const read = (rel: string) => readFileSync(path.join(REPO_ROOT, rel), "utf8");

// ------------------------------------------------------------------------------------------------ constants

/** The circom / Solidity tag names and their SDK key. */
const TAG_KEYS: Record<string, keyof typeof TAGS> = {
  TAG_PRECOMMIT: "precommitment",
  TAG_NOTE: "note",
  TAG_NULLIFIER: "nullifier",
  TAG_SESSION: "session",
  TAG_METER: "meter",
  TAG_TARIFF: "tariff",
  TAG_CHAIN_START: "chainStart",
  TAG_CHAIN_STEP: "chainStep",
  TAG_FINAL: "chainFinal",
  TAG_LIVE: "chainLive",
};
const tagValues = Object.fromEntries(Object.entries(TAG_KEYS).map(([name, key]) => [name, TAGS[key]]));

/** Every constant constants.circom may define, with the value sdk/constants.ts gives it. */
const CIRCOM_EXPECTED: Record<string, bigint> = {
  ...tagValues,
  BABYJUB_L: BABYJUB_SUBGROUP_ORDER,
  SECONDS_PER_DAY: BigInt(SECONDS_PER_DAY),
  BILL_DIVISOR,
  BITS_TIME: BigInt(BITS.time),
  BITS_ENERGY: BigInt(BITS.energy),
  BITS_INTERVAL: BigInt(BITS.interval),
  BITS_RATED_POWER: BigInt(BITS.ratedPower),
  BITS_VALUE: BigInt(BITS.value),
  BITS_ENERGY_PRICE: BigInt(BITS.energyPrice),
  BITS_TIME_PRICE: BigInt(BITS.timePrice),
  BITS_FLAT_FEE: BigInt(BITS.flatFee),
  BITS_MAX_PRICE: BigInt(BITS.maxPrice),
  BITS_TIME_OF_DAY: BigInt(BITS.timeOfDay),
  BITS_STEP_SIZE: BigInt(BITS.stepSize),
  BITS_DURATION_LIMIT: BigInt(BITS.durationLimit),
};

/** Every constant Constants.sol may define, with the value sdk/constants.ts gives it. */
const SOLIDITY_EXPECTED: Record<string, bigint> = {
  ...tagValues,
  FIELD_MODULUS,
  NOTE_TREE_DEPTH: BigInt(NOTE_TREE_DEPTH),
  METER_TREE_DEPTH: BigInt(METER_TREE_DEPTH),
  ROOT_HISTORY_LEAVES: BigInt(ROOT_HISTORY_LEAVES),
  SECONDS_PER_DAY: BigInt(SECONDS_PER_DAY),
  MAX_VALUE: max(BITS.value),
  MAX_RATED_POWER_W: max(BITS.ratedPower),
  MAX_ENERGY_PRICE: max(BITS.energyPrice),
  MAX_TIME_PRICE: max(BITS.timePrice),
  MAX_FLAT_FEE: max(BITS.flatFee),
  MAX_PRICE_CAP: max(BITS.maxPrice),
  MAX_TIME: max(BITS.time),
  MAX_STEP_SIZE: 1n << BigInt(BITS.stepSize),
  MAX_DURATION_LIMIT_VALUE: max(BITS.durationLimit),
  MAX_NOTE_TREE_SIZE: 1n << BigInt(NOTE_TREE_DEPTH),
  MAX_METER_TREE_SIZE: 1n << BigInt(METER_TREE_DEPTH),
};

/** A tag's value from its name: the UTF-8 bytes read big-endian (docs/protocol.md). */
const tagOf = (name: string) => BigInt("0x" + Buffer.from(name, "utf8").toString("hex"));

/**
 * Evaluates a constant expression of Constants.sol: integer literals (decimal / hex), earlier constants,
 * parentheses and + - * <<. Anything else fails the test rather than being guessed.
 */
function evalSolidity(expr: string, known: Record<string, bigint>): bigint {
  const substituted = expr.replace(/\b[A-Za-z_]\w*\b/g, (id) => {
    if (!(id in known)) throw new Error(`Constants.sol: unknown identifier ${id} in "${expr}"`);
    return `(${known[id]!.toString()})`;
  });
  const asBigInts = substituted.replace(/\b(0x[0-9a-fA-F]+|\d+)\b/g, "$1n");
  if (!/^[\s0-9a-fA-Fxn()+\-*<]+$/.test(asBigInts)) throw new Error(`Constants.sol: cannot evaluate "${expr}"`);
  return (new Function(`return ${asBigInts};`) as () => bigint)();
}

interface ParsedConstant {
  value: bigint;
  /** The quoted name in the trailing comment (tags), if any. */
  comment?: string;
}

function parseCircomConstants(text: string): Map<string, ParsedConstant> {
  const out = new Map<string, ParsedConstant>();
  for (const m of text.matchAll(
    /^function\s+(\w+)\s*\(\s*\)\s*\{\s*return\s+(0x[0-9a-fA-F]+|\d+)\s*;\s*\}(?:\s*\/\/\s*"([^"]*)")?/gm,
  )) {
    expect(out.has(m[1]!), `${m[1]} defined twice in constants.circom`).to.equal(false);
    out.set(m[1]!, { value: BigInt(m[2]!), comment: m[3] });
  }
  // Every function of the file must have been parsed (a form the regex misses must not go unchecked).
  const declared = [...text.matchAll(/^function\s+(\w+)/gm)].map((m) => m[1]!);
  expect([...out.keys()]).to.deep.equal(declared);
  return out;
}

function parseSolidityConstants(text: string): Map<string, ParsedConstant> {
  const out = new Map<string, ParsedConstant>();
  const known: Record<string, bigint> = {};
  for (const m of text.matchAll(/\bconstant\s+(\w+)\s*=\s*([^;]+);(?:[ \t]*\/\/\s*"([^"]*)")?/g)) {
    const value = evalSolidity(m[2]!.trim(), known);
    known[m[1]!] = value;
    expect(out.has(m[1]!), `${m[1]} defined twice in Constants.sol`).to.equal(false);
    out.set(m[1]!, { value, comment: m[3] });
  }
  const declared = [...text.matchAll(/\bconstant\s+(\w+)/g)].map((m) => m[1]!);
  expect([...out.keys()]).to.deep.equal(declared);
  return out;
}

// ------------------------------------------------------------------------------------------------ circuit vectors

const CIRCUIT_DEPTH = 5; // HashVectors(5, 4): tree depth and chain length of the fixture
const CHAIN_N = 4;
const OUTPUTS = [
  "idc",
  "precommitment",
  "commitment",
  "outCommitment",
  "nullifier",
  "meterLeaf",
  "chainHead",
  "chainFinal",
  "liveTail",
  "treeRoot",
] as const;
type Outputs = Record<(typeof OUTPUTS)[number], bigint> & { constants: bigint[] };

/** One vector: everything the fixture takes, from which both the circuit input and the SDK values follow. */
interface Vector {
  secret: bigint;
  blinding: bigint;
  value: bigint;
  leafIndex: bigint;
  outPrecommitment: bigint;
  outValue: bigint;
  tariff: Tariff;
  meter: { Ax: bigint; Ay: bigint; ratedPowerW: bigint; others: bigint[]; position: number };
  sessionId: bigint;
  points: { t: bigint; e: bigint }[];
  live: { t: bigint; e: bigint };
  ocmfDigest: bigint;
  tree: { leaves: bigint[]; index: number };
}

/** The SDK's values for a vector, and the fixture's input for it. */
function prepare(v: Vector): { input: CircuitInput; expected: Outputs } {
  const [Ax, Ay] = babyjub.mulPointEscalar(babyjub.Base8, v.secret);
  const idc = identityCommitment(Ax, Ay);
  const P = precommitment(idc, v.blinding);
  const C = noteCommitment(P, v.value);
  const th = tariffHash(v.tariff);
  const leaf = meterLeaf(v.meter.Ax, v.meter.Ay, v.tariff.cpoId, v.meter.ratedPowerW);
  const meterLeaves = [...v.meter.others];
  meterLeaves.splice(v.meter.position, 0, leaf);
  const meterTree = new MerkleTree(CIRCUIT_DEPTH, meterLeaves);
  const meterPath = meterTree.path(v.meter.position);
  let head = chainStart(v.sessionId, v.tariff.cpoId, leaf, th);
  for (const p of v.points) head = chainStep(head, p.t, p.e);
  const n = BigInt(v.points.length);
  const tree = new MerkleTree(CIRCUIT_DEPTH, v.tree.leaves);
  const treePath = tree.path(v.tree.index);
  expect(rootFromPath(treePath)).to.equal(tree.root);
  const pad = (xs: bigint[]) => [...xs, ...new Array<bigint>(CHAIN_N - xs.length).fill(0n)];

  const input: CircuitInput = {
    secret: v.secret,
    blinding: v.blinding,
    value: v.value,
    leafIndex: v.leafIndex,
    outPrecommitment: v.outPrecommitment,
    outValue: v.outValue,
    tariffHash: th,
    cpoId: v.tariff.cpoId,
    flatFee: v.tariff.flatFee,
    energyPrice: [...v.tariff.energyPrice],
    bandStart: v.tariff.bandStart.slice(1),
    timePricePerHour: [...v.tariff.timePricePerHour],
    parkingPricePerHour: [...v.tariff.parkingPricePerHour],
    minPrice: v.tariff.minPrice,
    maxPrice: v.tariff.maxPrice,
    tzOffset: v.tariff.tzOffset,
    validFrom: v.tariff.validFrom,
    validTo: v.tariff.validTo,
    stepSize: [...v.tariff.stepSize],
    durationLimit: [...durationLimitWords(v.tariff.durationLimit)],
    meterRoot: meterTree.root,
    meterAx: v.meter.Ax,
    meterAy: v.meter.Ay,
    ratedPowerW: v.meter.ratedPowerW,
    meterIndex: meterPath.leafIndex,
    meterTreeSize: meterPath.treeSize,
    meterSiblings: meterPath.siblings,
    sessionId: v.sessionId,
    n,
    t: pad(v.points.map((p) => p.t)),
    e: pad(v.points.map((p) => p.e)),
    ocmfDigest: v.ocmfDigest,
    liveT: v.live.t,
    liveE: v.live.e,
    leaf: treePath.leaf,
    treeIndex: treePath.leafIndex,
    treeSize: treePath.treeSize,
    siblings: treePath.siblings,
  };
  const expected: Outputs = {
    idc,
    precommitment: P,
    commitment: C,
    outCommitment: noteCommitment(v.outPrecommitment, v.outValue),
    nullifier: nullifier(C, v.leafIndex, v.secret),
    meterLeaf: leaf,
    chainHead: head,
    chainFinal: chainFinal(head, n, v.ocmfDigest),
    liveTail: liveTail(head, v.live.t, v.live.e),
    treeRoot: tree.root,
    constants: [
      TAGS.precommitment,
      TAGS.note,
      TAGS.nullifier,
      TAGS.meter,
      TAGS.tariff,
      TAGS.chainStart,
      TAGS.chainStep,
      TAGS.chainFinal,
      TAGS.chainLive,
      BABYJUB_SUBGROUP_ORDER,
      BigInt(SECONDS_PER_DAY),
      BILL_DIVISOR,
    ],
  };
  return { input, expected };
}

/**
 * A tariff with every field at `pick(bits)` (band starts kept ordered, as the registry requires): the low one has no
 * duration limit (all five words 0), the top one a limit at 2^32 - 1 seconds setting all three prices to 2^32 - 1.
 */
function edgeTariff(cpoId: bigint, top: boolean): Tariff {
  const v = (bits: number) => (top ? max(bits) : 0n);
  return {
    cpoId,
    flatFee: v(BITS.flatFee),
    energyPrice: [v(32), 1n, v(32), 0n],
    bandStart: [0n, 1n, 43_200n, 86_399n],
    timePricePerHour: [v(BITS.timePrice), 1n, 0n, v(BITS.timePrice)],
    parkingPricePerHour: [0n, v(BITS.timePrice), 1n, v(BITS.timePrice)],
    minPrice: v(BITS.maxPrice),
    maxPrice: v(BITS.maxPrice),
    tzOffset: top ? 86_399n : 0n,
    validFrom: v(BITS.time),
    validTo: v(BITS.time),
    stepSize: top ? [1n << 32n, 1n << 32n, 1n << 32n] : [1n, 1n, 1n],
    ...(top
      ? {
          durationLimit: {
            seconds: max(BITS.durationLimit),
            energyPrice: max(BITS.durationLimit),
            timePricePerHour: max(BITS.durationLimit),
            parkingPricePerHour: max(BITS.durationLimit),
          },
        }
      : {}),
  };
}

/** Fixed vectors at the edges: 0, 2^k - 1, r - 1 (where the field is the only bound), l - 1 for the secret. */
function edgeVectors(): Vector[] {
  const lo: Vector = {
    secret: 1n,
    blinding: 0n,
    value: 0n,
    leafIndex: 0n,
    outPrecommitment: 0n,
    outValue: 0n,
    tariff: edgeTariff(0n, false),
    meter: { Ax: 0n, Ay: 0n, ratedPowerW: 0n, others: [], position: 0 },
    sessionId: 0n,
    points: [{ t: 0n, e: 0n }],
    live: { t: 0n, e: 0n },
    ocmfDigest: 0n,
    tree: { leaves: [0n], index: 0 },
  };
  const hi: Vector = {
    secret: L - 1n,
    blinding: R - 1n,
    value: max(64),
    leafIndex: R - 1n,
    outPrecommitment: R - 1n,
    outValue: max(64),
    tariff: edgeTariff(R - 1n, true),
    meter: {
      Ax: R - 1n,
      Ay: R - 1n,
      ratedPowerW: max(24),
      others: Array.from({ length: 31 }, (_, i) => R - 1n - BigInt(i)),
      position: 31,
    },
    sessionId: R - 1n,
    points: Array.from({ length: CHAIN_N }, () => ({ t: R - 1n, e: R - 1n })),
    live: { t: R - 1n, e: R - 1n },
    ocmfDigest: R - 1n,
    tree: { leaves: Array.from({ length: 32 }, (_, i) => R - 1n - BigInt(i)), index: 31 },
  };
  // A tree with a carried node (size 6, leaf 4) and a meter in the middle of a 13-leaf tree.
  const mid: Vector = {
    ...hi,
    secret: 2n,
    value: 1n << 63n,
    leafIndex: 1n << 24n,
    meter: {
      Ax: 5n,
      Ay: 7n,
      ratedPowerW: 22_000n,
      others: Array.from({ length: 12 }, (_, i) => BigInt(i + 1)),
      position: 6,
    },
    points: [
      { t: 1_700_000_000n, e: 10n },
      { t: 1_700_000_060n, e: 300n },
    ],
    tree: { leaves: [1n, 2n, 3n, 4n, 5n, 6n], index: 4 },
  };
  return [lo, hi, mid];
}

// fast-check arbitraries with the edge values mixed in
const field = () => fc.oneof(fc.constantFrom(0n, 1n, R - 1n), fc.bigInt({ min: 0n, max: R - 1n }));
const bits = (k: number) => fc.oneof(fc.constantFrom(0n, max(k)), fc.bigInt({ min: 0n, max: max(k) }));
/** A step size, 1..2^32 with both ends likely. */
const stepSize = fc.oneof(
  fc.constantFrom(1n, 1n << BigInt(BITS.stepSize)),
  fc.bigInt({ min: 1n, max: 1n << BigInt(BITS.stepSize) }),
);
/** A duration limit: seconds 1..2^32 - 1 (both ends likely) and a non-empty subset of the three prices. */
const durationLimitArb: fc.Arbitrary<DurationLimit> = fc
  .record({
    seconds: fc.oneof(
      fc.constantFrom(1n, max(BITS.durationLimit)),
      fc.bigInt({ min: 1n, max: max(BITS.durationLimit) }),
    ),
    sets: fc.integer({ min: 1, max: 7 }),
    prices: fc.tuple(bits(BITS.durationLimit), bits(BITS.durationLimit), bits(BITS.durationLimit)),
  })
  .map(({ seconds, sets, prices: [energyPrice, timePricePerHour, parkingPricePerHour] }) => ({
    seconds,
    ...(sets & 1 ? { energyPrice } : {}),
    ...(sets & 2 ? { timePricePerHour } : {}),
    ...(sets & 4 ? { parkingPricePerHour } : {}),
  }));

const vectorArb: fc.Arbitrary<Vector> = fc.record({
  secret: fc.oneof(fc.constantFrom(1n, L - 1n), fc.bigInt({ min: 1n, max: L - 1n })),
  blinding: field(),
  value: bits(64),
  leafIndex: field(),
  outPrecommitment: field(),
  outValue: bits(64),
  tariff: fc
    .record({
      cpoId: field(),
      flatFee: bits(BITS.flatFee),
      energyPrice: fc.tuple(bits(32), bits(32), bits(32), bits(32)),
      bandStart: fc
        .uniqueArray(fc.bigInt({ min: 1n, max: 86_399n }), { minLength: 3, maxLength: 3 })
        .map((b) => [0n, ...b.sort((x, y) => (x < y ? -1 : 1))] as [bigint, bigint, bigint, bigint]),
      timePricePerHour: fc.tuple(bits(32), bits(32), bits(32), bits(32)),
      parkingPricePerHour: fc.tuple(bits(32), bits(32), bits(32), bits(32)),
      minPrice: bits(BITS.maxPrice),
      maxPrice: bits(BITS.maxPrice),
      tzOffset: fc.bigInt({ min: 0n, max: 86_399n }),
      validFrom: bits(BITS.time),
      validTo: bits(BITS.time),
      stepSize: fc.tuple(stepSize, stepSize, stepSize),
      durationLimit: fc.option(durationLimitArb, { nil: undefined }),
    })
    // No limit is no key (as fromTariffStruct reads it), not a key holding undefined.
    .map(({ durationLimit, ...t }): Tariff => (durationLimit !== undefined ? { ...t, durationLimit } : t)),
  meter: fc
    .record({
      Ax: field(),
      Ay: field(),
      ratedPowerW: bits(24),
      others: fc.array(field(), { maxLength: 31 }),
      position: fc.nat(),
    })
    .map((m) => ({ ...m, position: m.position % (m.others.length + 1) })),
  sessionId: field(),
  points: fc.array(fc.record({ t: field(), e: field() }), { minLength: 1, maxLength: CHAIN_N }),
  live: fc.record({ t: field(), e: field() }),
  ocmfDigest: field(),
  tree: fc
    .record({ leaves: fc.array(field(), { minLength: 1, maxLength: 32 }), index: fc.nat() })
    .map((t) => ({ ...t, index: t.index % t.leaves.length })),
});

// ------------------------------------------------------------------------------------------------ Solidity helpers

/** Registry tariff struct (bandStart without the implicit 0). */
/** Roots of an SDK tree after each insert. */
function sdkRoots(leaves: bigint[]): bigint[] {
  const tree = new MerkleTree(32);
  return leaves.map((l) => {
    tree.insert(l);
    return tree.root;
  });
}

describe("protocol vectors: TypeScript = circom = Solidity", function () {
  this.timeout(300_000);

  describe("constants", () => {
    it("sdk tags are the UTF-8 names of the docs/protocol.md table, distinct and below 2^248", () => {
      const doc = read("docs/protocol.md");
      const rows = [...doc.matchAll(/^\|\s*`(TAG_\w+)`\s*\|\s*`([^`]+)`\s*\|$/gm)];
      expect(rows.map((m) => m[1]).sort()).to.deep.equal(Object.keys(TAG_KEYS).sort());
      for (const [, name, text] of rows) expect(TAGS[TAG_KEYS[name!]!], name).to.equal(tagOf(text!));
      const values = Object.values(TAGS);
      expect(new Set(values).size).to.equal(values.length);
      for (const v of values) expect(v < 1n << 248n).to.equal(true);
    });

    it("sdk field, curve and circuit sizes match the libraries and circuits.json", () => {
      expect(FIELD_MODULUS).to.equal(BN254_R);
      expect(FIELD_MODULUS).to.equal(babyjub.r);
      expect(BABYJUB_SUBGROUP_ORDER).to.equal(babyjub.subOrder);
      expect(BABYJUB_SUBGROUP_ORDER * 8n).to.equal(babyjub.order);
      const circuits = JSON.parse(read("circuits/circuits.json")) as Record<string, { params: number[] }>;
      expect(circuits.transact!.params[0]).to.equal(NOTE_TREE_DEPTH);
      expect(circuits.pay!.params).to.deep.equal([NOTE_TREE_DEPTH, METER_TREE_DEPTH, N_POINTS]);
      expect(BILL_DIVISOR).to.equal(3_600n * 1_000n);
    });

    it("circuits/lib/constants.circom defines exactly the sdk values", () => {
      const parsed = parseCircomConstants(read("circuits/lib/constants.circom"));
      for (const name of [...Object.keys(TAG_KEYS).filter((t) => t !== "TAG_SESSION"), "BABYJUB_L", "BITS_VALUE"]) {
        expect(parsed.has(name), `constants.circom lacks ${name}`).to.equal(true);
      }
      for (const [name, { value, comment }] of parsed) {
        expect(name in CIRCOM_EXPECTED, `constants.circom: ${name} has no sdk counterpart in this test`).to.equal(true);
        expect(value, `constants.circom: ${name}`).to.equal(CIRCOM_EXPECTED[name]);
        if (name.startsWith("TAG_"))
          expect(tagOf(comment ?? ""), `constants.circom: comment of ${name}`).to.equal(value);
      }
    });

    it("contracts/libraries/Constants.sol defines exactly the sdk values", () => {
      const parsed = parseSolidityConstants(read("contracts/libraries/Constants.sol"));
      for (const name of ["FIELD_MODULUS", "TAG_NOTE", "TAG_METER", "TAG_TARIFF", "MAX_VALUE", "ROOT_HISTORY_LEAVES"]) {
        expect(parsed.has(name), `Constants.sol lacks ${name}`).to.equal(true);
      }
      for (const [name, { value, comment }] of parsed) {
        expect(name in SOLIDITY_EXPECTED, `Constants.sol: ${name} has no sdk counterpart in this test`).to.equal(true);
        expect(value, `Constants.sol: ${name}`).to.equal(SOLIDITY_EXPECTED[name]);
        if (name.startsWith("TAG_")) expect(tagOf(comment ?? ""), `Constants.sol: comment of ${name}`).to.equal(value);
      }
    });

    it("the parser itself: evaluates shifts and references, refuses what it does not know", () => {
      expect(evalSolidity("(1 << 64) - 1", {})).to.equal(max(64));
      expect(evalSolidity("1 << D", { D: 24n })).to.equal(1n << 24n);
      expect(evalSolidity("0x7a6b", {})).to.equal(0x7a6bn);
      expect(() => evalSolidity("type(uint256).max", {})).to.throw();
      expect(() => evalSolidity("1 / 2", {})).to.throw();
    });
  });

  describe("circuit (circuits/lib templates) = sdk", () => {
    const outDir = "build/tmp/vectors"; // relative to the repo root: circom2 (WASI) sees only the cwd
    let module: WebAssembly.Module;

    before(async function () {
      this.timeout(180_000);
      rmSync(path.join(REPO_ROOT, outDir), { recursive: true, force: true });
      mkdirSync(path.join(REPO_ROOT, outDir), { recursive: true });
      await promisify(execFile)(
        path.join(REPO_ROOT, "node_modules/.bin/circom2"),
        ["test/circuits/fixtures/hash_vectors.circom", "--r1cs", "--wasm", "-l", "node_modules", "-o", outDir],
        { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
      );
      const wasm = path.join(REPO_ROOT, outDir, "hash_vectors_js/hash_vectors.wasm");
      module = await compileWitnessWasm(readFileSync(wasm), `${wasm}:${Date.now()}`);
    });

    /** The fixture's outputs (witness[1..22], in declaration order). */
    function outputsOf(input: CircuitInput): Outputs {
      const w = computeWitness("hash_vectors", module, normalizeInput("hash_vectors", input)).witness;
      const o = Object.fromEntries(OUTPUTS.map((name, i) => [name, w[1 + i]!])) as unknown as Outputs;
      o.constants = w.slice(1 + OUTPUTS.length, 1 + OUTPUTS.length + 12);
      return o;
    }

    function rejection(input: CircuitInput): WitnessError {
      try {
        outputsOf(input);
      } catch (e) {
        expect(e).to.be.instanceOf(WitnessError);
        return e as WitnessError;
      }
      expect.fail("the circuit accepted a wrong vector");
    }

    it("edge vectors (0, 2^k - 1, r - 1, l - 1)", () => {
      for (const v of edgeVectors()) {
        const { input, expected } = prepare(v);
        expect(outputsOf(input)).to.deep.equal(expected);
      }
    });

    it("a real Semaphore identity: circuit idc = sdk = Semaphore's commitment", () => {
      const id = DriverIdentity.random();
      const v = { ...edgeVectors()[2]!, secret: id.secretScalar };
      const { input, expected } = prepare(v);
      expect(expected.idc).to.equal(id.commitment);
      expect(outputsOf(input)).to.deep.equal(expected);
    });

    it("random vectors", () => {
      fc.assert(
        fc.property(vectorArb, (v) => {
          const { input, expected } = prepare(v);
          expect(outputsOf(input)).to.deep.equal(expected);
        }),
        { numRuns: 12 },
      );
    });

    it("the checks bite: a tariff hash, meter root or path off by one is rejected, a leaf off by one changes the root", () => {
      const { input, expected } = prepare(edgeVectors()[2]!);
      expect(rejection({ ...input, tariffHash: (input.tariffHash as bigint) + 1n }).template).to.equal("TariffHash");
      expect(rejection({ ...input, bandStart: [2n, 43_200n, 86_399n] }).template).to.equal("TariffHash");
      const top = max(BITS.durationLimit);
      expect(rejection({ ...input, durationLimit: [top - 1n, top, top, top, 7n] }).template).to.equal("TariffHash");
      expect(rejection({ ...input, meterRoot: (input.meterRoot as bigint) + 1n }).template).to.equal("MeterMembership");
      expect(rejection({ ...input, ratedPowerW: 22_001n }).template).to.equal("MeterMembership");
      const o = outputsOf({ ...input, leaf: (input.leaf as bigint) + 1n });
      expect(o.treeRoot).to.not.equal(expected.treeRoot);
      expect(o.idc).to.equal(expected.idc);
    });
  });

  describe("Solidity = sdk", () => {
    let d: ZkchargeDeployment;
    let hv: HashVectors;

    before(async () => {
      d = await deployZkcharge(ethers);
      hv = (await ethers.deployContract("HashVectors", [], {
        libraries: { ...d.addresses.poseidon },
      })) as unknown as HashVectors;
      await hv.waitForDeployment();
    });

    it("Constants.sol as compiled equals the parsed text (and so the sdk)", async () => {
      const parsed = parseSolidityConstants(read("contracts/libraries/Constants.sol"));
      for (const [name, { value }] of parsed) expect(await hv.constantOf(name), name).to.equal(value);
      expect(await hv.constantOf("MAX_VALUE")).to.equal(max(64));
    });

    it("note commitment PoseidonT4([TAG_NOTE, P, v]) (edges and random)", async () => {
      for (const [P, v] of [
        [0n, 0n],
        [R - 1n, max(64)],
        [1n, 1n],
      ] as const) {
        expect(await hv.noteCommitment(P, v)).to.equal(noteCommitment(P, v));
      }
      await fc.assert(
        fc.asyncProperty(field(), bits(64), async (P, v) => {
          expect(await hv.noteCommitment(P, v)).to.equal(noteCommitment(P, v));
        }),
        { numRuns: 8 },
      );
    });

    it("meter leaf PoseidonT6([TAG_METER, Ax, Ay, cpoId, ratedPowerW]) (edges and random)", async () => {
      for (const [ax, ay, cpo, p] of [
        [0n, 0n, 0n, 0n],
        [R - 1n, R - 1n, R - 1n, max(24)],
      ] as const) {
        expect(await hv.meterLeaf(ax, ay, cpo, p)).to.equal(meterLeaf(ax, ay, cpo, p));
      }
      await fc.assert(
        fc.asyncProperty(field(), field(), field(), bits(24), async (ax, ay, cpo, p) => {
          expect(await hv.meterLeaf(ax, ay, cpo, p)).to.equal(meterLeaf(ax, ay, cpo, p));
        }),
        { numRuns: 8 },
      );
    });

    it("Merkle node PoseidonT3", async () => {
      for (const [l, r] of [
        [0n, 0n],
        [R - 1n, 1n],
        [123n, R - 1n],
      ] as const) {
        expect(await hv.merkleNode(l, r)).to.equal(new MerkleTree(1, [l, r]).root);
      }
    });

    it("tariff hash: Registry.hashTariff and the TariffPublished event (edges and random)", async () => {
      for (const t of [edgeTariff(0n, false), edgeTariff(R - 1n, true)]) {
        expect(await d.registry.hashTariff(toTariffStruct(t))).to.equal(tariffHash(t));
      }
      await fc.assert(
        fc.asyncProperty(
          vectorArb.map((v) => v.tariff),
          async (t) => {
            expect(await d.registry.hashTariff(toTariffStruct(t))).to.equal(tariffHash(t));
          },
        ),
        { numRuns: 8 },
      );

      // Published for real: the registry's stored hash is the sdk's.
      const [admin] = await ethers.getSigners();
      await (await d.registry.registerCpo(admin!.address)).wait();
      const cpoId = await d.registry.cpoCount();
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const t: Tariff = {
        ...edgeTariff(cpoId, false),
        energyPrice: [250_000n, 390_000n, 450_000n, 300_000n],
        bandStart: [0n, 25_200n, 61_200n, 79_200n],
        tzOffset: 3_600n,
        validFrom: now + 100n,
        validTo: now + 86_400n,
      };
      const receipt = await (await d.registry.publishTariff(toTariffStruct(t))).wait();
      const ev = receipt!.logs.map((l) => d.registry.interface.parseLog(l)).find((l) => l?.name === "TariffPublished");
      expect(ev!.args.tariffHash).to.equal(tariffHash(t));
      expect(await d.registry.tariffCpo(tariffHash(t))).to.equal(cpoId);
    });

    it("meter tree: Registry.addMeter leaf and root = sdk meterLeaf and MerkleTree root", async () => {
      const [admin] = await ethers.getSigners();
      await (await d.registry.registerCpo(admin!.address)).wait();
      const cpoId = await d.registry.cpoCount();
      const tree = new MerkleTree(METER_TREE_DEPTH);
      for (let i = 0n; i < 6n; i++) {
        const [ax, ay, power] = i === 5n ? [R - 1n, R - 1n, max(24)] : [1000n + i, 2000n + i, 7_400n + i];
        const receipt = await (await d.registry.addMeter(cpoId, ax, ay, power)).wait();
        const ev = receipt!.logs.map((l) => d.registry.interface.parseLog(l)).find((l) => l?.name === "MeterAdded");
        tree.insert(meterLeaf(ax, ay, cpoId, power));
        expect(ev!.args.leaf).to.equal(meterLeaf(ax, ay, cpoId, power));
        expect(ev!.args.root).to.equal(tree.root);
        expect(await d.registry.meterRoot(cpoId)).to.equal(tree.root);
      }
    });

    it("InternalLeanIMT (zk-kit) roots after each insert = sdk tree roots", async () => {
      const leaves = Array.from({ length: 33 }, (_, i) => (i === 0 ? R - 1n : BigInt(i) * 0x1234567n));
      expect(await hv.leanImtRoots.staticCall(leaves)).to.deep.equal(sdkRoots(leaves));
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.bigInt({ min: 1n, max: R - 1n }), { minLength: 1, maxLength: 20 }),
          async (ls) => {
            expect(await hv.leanImtRoots.staticCall(ls)).to.deep.equal(sdkRoots(ls));
          },
        ),
        { numRuns: 5 },
      );
    });

    it("the pool's NoteTree library: roots after each insert = sdk NoteTree (zeros, duplicates, r - 1, 70 leaves)", async () => {
      expect(await hv.emptyNoteTreeRoot.staticCall()).to.equal(new MerkleTree(NOTE_TREE_DEPTH).root);
      const leaves = Array.from({ length: 70 }, (_, i) => [0n, R - 1n - BigInt(i), 7n, 7n][i % 4]!);
      const [roots, indices] = await hv.noteTreeRoots.staticCall(leaves);
      expect(roots).to.deep.equal(sdkRoots(leaves));
      expect(indices).to.deep.equal(leaves.map((_, i) => BigInt(i)));
      await fc.assert(
        fc.asyncProperty(fc.array(field(), { minLength: 1, maxLength: 40 }), async (ls) => {
          const [r] = await hv.noteTreeRoots.staticCall(ls);
          expect(r).to.deep.equal(sdkRoots(ls));
        }),
        { numRuns: 5 },
      );
    });

    it("Pool.deposit: NoteAdded commitment and noteRoot = sdk", async () => {
      const [admin] = await ethers.getSigners();
      const tree = new MerkleTree(NOTE_TREE_DEPTH);
      await (await d.testToken!.mint(admin!.address, 10n ** 12n)).wait();
      await (await d.token.approve(d.addresses.pool, 10n ** 12n)).wait();
      for (const [P, v] of [
        [R - 1n, 1n],
        [0n, 5_000_000n],
        [0xabcdefn, 42n],
      ] as const) {
        const receipt = await (await d.pool.deposit(P, v, "0x")).wait();
        const ev = receipt!.logs
          .map((l) => {
            try {
              return d.pool.interface.parseLog(l);
            } catch {
              return null;
            }
          })
          .find((l) => l?.name === "NoteAdded");
        expect(ev!.args.commitment).to.equal(noteCommitment(P, v));
        tree.insert(noteCommitment(P, v));
        expect(await d.pool.noteRoot()).to.equal(tree.root);
        expect(await d.pool.isKnownRoot(tree.root, BigInt(tree.size))).to.equal(true);
      }
    });

    it("Pool.hashExtData = sdk extDataHash (edges and random)", async () => {
      const { chainId } = await ethers.provider.getNetwork();
      const pool = d.addresses.pool;
      const check = async (ext: {
        recipient: string;
        relayer: string;
        extAmount: bigint;
        encryptedOutput1: string;
        encryptedOutput2: string;
      }) => {
        const onChain = await d.pool.hashExtData(ext);
        expect(onChain).to.equal(extDataHash({ chainId, pool, ...ext }));
        expect(onChain < R).to.equal(true);
      };
      const addr = (b: Uint8Array) => getAddress(hexlify(b));
      for (const extAmount of [0n, max(64), -max(64), (1n << 255n) - 1n, -(1n << 255n)]) {
        await check({
          recipient: ZeroAddress,
          relayer: ZeroAddress,
          extAmount,
          encryptedOutput1: "0x",
          encryptedOutput2: "0x",
        });
      }
      await check({
        recipient: "0x" + "ff".repeat(20),
        relayer: "0x" + "ff".repeat(20),
        extAmount: -1n,
        encryptedOutput1: hexlify(randomBytes(97)),
        encryptedOutput2: hexlify(randomBytes(32)),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 20, maxLength: 20 }),
          fc.uint8Array({ minLength: 20, maxLength: 20 }),
          fc.bigInt({ min: -max(64), max: max(64) }),
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }),
          async (rc, rl, extAmount, e1, e2) => {
            await check({
              recipient: addr(rc),
              relayer: addr(rl),
              extAmount,
              encryptedOutput1: hexlify(e1),
              encryptedOutput2: hexlify(e2),
            });
          },
        ),
        { numRuns: 8 },
      );
      // It binds the pool and the chain: another pool address gives another hash.
      const ext = {
        recipient: ZeroAddress,
        relayer: ZeroAddress,
        extAmount: 1n,
        encryptedOutput1: "0x",
        encryptedOutput2: "0x",
      };
      expect(await d.pool.hashExtData(ext)).to.not.equal(extDataHash({ chainId, pool: ZeroAddress, ...ext }));
      expect(await d.pool.hashExtData(ext)).to.not.equal(extDataHash({ chainId: chainId + 1n, pool, ...ext }));
    });
  });
});
