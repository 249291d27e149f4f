/**
 * A note: `value` token base units owned by identity commitment `idc`, hidden by a random `blinding`.
 * `P = precommitment(idc, blinding)`, `C = noteCommitment(P, value)`.
 */
import { BITS } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";
import {
  assertBits,
  assertFieldElement,
  bigintToBytes,
  bytesToBigint,
  isFieldElement,
  randomFieldElement,
} from "./field.ts";
import { noteCommitment, nullifier, precommitment } from "./hash.ts";

/** Length in bytes of an encoded note opening: blinding (32) || value (8), both big-endian. */
export const NOTE_OPENING_BYTES = 40;

/** An immutable note. */
export class Note {
  /** Value in token base units (`< 2^64`). */
  readonly value: bigint;
  /** Random blinding field element. */
  readonly blinding: bigint;
  /** Owner's identity commitment. */
  readonly idc: bigint;

  /**
   * @throws InvalidInputError if value is not 64-bit or blinding / idc is not a field element
   */
  constructor(value: bigint, blinding: bigint, idc: bigint) {
    assertBits(value, BITS.value, "note value");
    assertFieldElement(blinding, "note blinding");
    assertFieldElement(idc, "note owner idc");
    this.value = value;
    this.blinding = blinding;
    this.idc = idc;
  }

  /** A note of `value` for `idc` with a fresh uniformly random blinding. */
  static random(idc: bigint, value: bigint): Note {
    return new Note(value, randomFieldElement(), idc);
  }

  /** Precommitment `P = H_3(TAG_PRECOMMIT, idc, blinding)`. */
  get precommitment(): bigint {
    return precommitment(this.idc, this.blinding);
  }

  /** Commitment `C = H_3(TAG_NOTE, P, value)`: the leaf the contract inserts. */
  get commitment(): bigint {
    return noteCommitment(this.precommitment, this.value);
  }

  /**
   * Nullifier revealed when spending this note from leaf `leafIndex`.
   * @param leafIndex the note's index in the note tree
   * @param secretScalar the owner's identity secret `s`
   */
  nullifier(leafIndex: bigint | number, secretScalar: bigint): bigint {
    return nullifier(this.commitment, BigInt(leafIndex), secretScalar);
  }

  /** The opening the owner needs to spend the note: blinding (32 bytes) || value (8 bytes), big-endian. */
  encodeOpening(): Uint8Array {
    const out = new Uint8Array(NOTE_OPENING_BYTES);
    out.set(bigintToBytes(this.blinding, 32), 0);
    out.set(bigintToBytes(this.value, 8), 32);
    return out;
  }

  /**
   * Rebuilds a note from its opening and the owner's `idc`.
   * @throws InvalidInputError on a wrong length or a blinding that is not a field element
   */
  static decodeOpening(bytes: Uint8Array, idc: bigint): Note {
    if (bytes.length !== NOTE_OPENING_BYTES) {
      throw new InvalidInputError(`note opening must be ${NOTE_OPENING_BYTES} bytes, got ${bytes.length}`);
    }
    const blinding = bytesToBigint(bytes.subarray(0, 32));
    if (!isFieldElement(blinding)) throw new InvalidInputError("note opening's blinding is not a field element");
    return new Note(bytesToBigint(bytes.subarray(32, 40)), blinding, idc);
  }
}
