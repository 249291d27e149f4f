/**
 * Builds the transact circuit's witness input (two notes in, two out, a public amount) from
 * domain objects, checking the balance and the paths first so that errors name their cause.
 */
import { BITS, FIELD_MODULUS, NOTE_TREE_DEPTH } from "../core/constants.ts";
import { InsufficientBalanceError, InvalidInputError } from "../core/errors.ts";
import { noteCommitment } from "../core/hash.ts";
import { formatAmount } from "../core/money.ts";
import { Note } from "../core/note.ts";
import { rootFromPath, type MerklePath } from "../core/tree.ts";
import type { TransactPublicSignals } from "./publicSignals.ts";

/** An input note: a real one with its path, or a zero-value dummy (path ignored by the circuit). */
export interface TransactInput {
  note: Note;
  path: MerklePath;
}

/** An output: value to a precommitment (the driver's own change, or another driver's). */
export interface TransactOutput {
  precommitment: bigint;
  value: bigint;
}

/** Everything needed to prove one transact. */
export interface TransactRequest {
  secretScalar: bigint;
  /** Exactly two inputs (use {@link dummyInput} to fill). */
  inputs: [TransactInput, TransactInput];
  /** Exactly two outputs (value 0 to a random precommitment when unused). */
  outputs: [TransactOutput, TransactOutput];
  /** Tokens entering (> 0, top-up) or leaving (< 0, withdrawal) the pool. */
  extAmount: bigint;
  /** Relayer fee, taken from the inputs. */
  fee: bigint;
  extDataHash: bigint;
}

/** A checked transact witness input with what it will prove. */
export interface TransactWitness {
  input: Record<string, bigint | bigint[] | bigint[][]>;
  publicSignals: TransactPublicSignals;
}

/** `(extAmount - fee) mod r`, the public amount both the circuit and the pool use. */
export function publicAmountOf(extAmount: bigint, fee: bigint): bigint {
  return (((extAmount - fee) % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
}

/**
 * A zero-value input that the circuit does not look up in the tree. It borrows a real `path` (any
 * leaf of the tree at the proven size) so that the public root is still the tree's; its random
 * blinding keeps its nullifier fresh.
 */
export function dummyInput(idc: bigint, path: MerklePath): TransactInput {
  return { note: Note.random(idc, 0n), path };
}

/**
 * Checks a transact request and returns its witness input.
 * @throws InsufficientBalanceError when the inputs do not cover outputs + withdrawal + fee;
 *   InvalidInputError naming the bad value
 */
export function buildTransactWitness(req: TransactRequest): TransactWitness {
  const limit = 1n << BigInt(BITS.value);
  if (req.extAmount <= -limit || req.extAmount >= limit)
    throw new InvalidInputError(`extAmount ${req.extAmount} must be within ±(2^64-1)`);
  if (req.fee < 0n || req.fee >= limit) throw new InvalidInputError(`fee ${req.fee} must be in 0..2^64-1`);
  const treeSize = req.inputs[0].path.treeSize;
  let root: bigint | undefined;
  for (const [j, { note, path }] of req.inputs.entries()) {
    if (path.siblings.length !== NOTE_TREE_DEPTH)
      throw new InvalidInputError(`input ${j}: path must have ${NOTE_TREE_DEPTH} siblings`);
    if (path.treeSize !== treeSize)
      throw new InvalidInputError(`input ${j}: both paths must be taken at the same tree size`);
    if (note.value === 0n) continue;
    if (path.leaf !== note.commitment)
      throw new InvalidInputError(`input ${j}: path proves ${path.leaf}, not the note's commitment`);
    const r = rootFromPath(path);
    if (root !== undefined && r !== root) throw new InvalidInputError("the two input paths lead to different roots");
    root = r;
  }
  const realPath = req.inputs.find((i) => i.note.value > 0n)?.path ?? req.inputs[0].path;
  const noteRoot = root ?? rootFromPath(realPath);

  const sumIn = req.inputs[0].note.value + req.inputs[1].note.value;
  const sumOut = req.outputs[0].value + req.outputs[1].value;
  for (const [k, out] of req.outputs.entries()) {
    if (out.value < 0n || out.value >= limit)
      throw new InvalidInputError(`output ${k}: value ${out.value} must be in 0..2^64-1`);
    if (out.precommitment < 0n || out.precommitment >= FIELD_MODULUS)
      throw new InvalidInputError(`output ${k}: precommitment is not a field element`);
  }
  if (sumIn + req.extAmount - req.fee !== sumOut) {
    const need = sumOut - req.extAmount + req.fee;
    if (sumIn < need) {
      throw new InsufficientBalanceError(
        `balance ${formatAmount(sumIn)} is less than the ${formatAmount(need)} this transaction moves out`,
      );
    }
    throw new InvalidInputError(
      `inputs ${formatAmount(sumIn)} + ${formatAmount(req.extAmount)} - fee ${formatAmount(req.fee)} do not equal the outputs ${formatAmount(sumOut)}`,
    );
  }

  const nullifiers = req.inputs.map(({ note, path }) => note.nullifier(path.leafIndex, req.secretScalar)) as [
    bigint,
    bigint,
  ];
  if (nullifiers[0] === nullifiers[1]) throw new InvalidInputError("the same note is spent twice in one transaction");
  const outputCommitments = req.outputs.map((o) => noteCommitment(o.precommitment, o.value)) as [bigint, bigint];
  const publicSignals: TransactPublicSignals = {
    noteRoot,
    noteTreeSize: treeSize,
    inputNullifiers: nullifiers,
    outputCommitments,
    publicAmount: publicAmountOf(req.extAmount, req.fee),
    extDataHash: req.extDataHash,
  };
  return {
    publicSignals,
    input: {
      noteRoot,
      noteTreeSize: treeSize,
      inputNullifier: nullifiers,
      outputCommitment: outputCommitments,
      publicAmount: publicSignals.publicAmount,
      extDataHash: req.extDataHash,
      secret: req.secretScalar,
      inValue: req.inputs.map((i) => i.note.value),
      inBlinding: req.inputs.map((i) => i.note.blinding),
      inLeafIndex: req.inputs.map((i) => i.path.leafIndex),
      inSiblings: req.inputs.map((i) => i.path.siblings),
      outPrecommitment: req.outputs.map((o) => o.precommitment),
      outValue: req.outputs.map((o) => o.value),
    },
  };
}
