/**
 * The circuit inputs of spending one note (NoteSpend in pay and lock), checked first. Written once.
 */
import { NOTE_TREE_DEPTH } from "../core/constants.ts";
import { InvalidInputError } from "../core/errors.ts";
import { nullifier } from "../core/hash.ts";
import type { Note } from "../core/note.ts";
import { rootFromPath, type MerklePath } from "../core/tree.ts";

/**
 * Public values and private inputs of spending `note` at `notePath` with identity secret `secretScalar`.
 * @throws InvalidInputError if the path is not the note's, or the secret is not below l
 */
export function noteSpendInputs(secretScalar: bigint, note: Note, notePath: MerklePath) {
  if (notePath.leaf !== note.commitment) {
    throw new InvalidInputError(`note path proves leaf ${notePath.leaf}, not the note's commitment ${note.commitment}`);
  }
  if (notePath.siblings.length !== NOTE_TREE_DEPTH) {
    throw new InvalidInputError(`the note path must have ${NOTE_TREE_DEPTH} siblings`);
  }
  return {
    noteRoot: rootFromPath(notePath),
    noteTreeSize: notePath.treeSize,
    nullifier: nullifier(note.commitment, notePath.leafIndex, secretScalar),
    inputs: {
      secret: secretScalar,
      value: note.value,
      blinding: note.blinding,
      leafIndex: notePath.leafIndex,
      noteSiblings: notePath.siblings,
    },
  };
}
