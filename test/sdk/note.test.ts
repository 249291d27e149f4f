import { expect } from "chai";
import fc from "fast-check";
import { FIELD_MODULUS } from "../../sdk/core/constants.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { noteCommitment, nullifier, precommitment } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Note, NOTE_OPENING_BYTES } from "../../sdk/core/note.ts";

const field = fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n });
const value = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe("sdk/note", () => {
  it("commitment = H(TAG_NOTE, H(TAG_PRECOMMIT, idc, blinding), value)", () => {
    const n = new Note(5_000_000n, 123n, 456n);
    expect(n.precommitment).to.equal(precommitment(456n, 123n));
    expect(n.commitment).to.equal(noteCommitment(precommitment(456n, 123n), 5_000_000n));
  });

  it("nullifier binds the leaf index and the owner's secret", () => {
    const id = DriverIdentity.random();
    const n = Note.random(id.commitment, 1n);
    expect(n.nullifier(3, id.secretScalar)).to.equal(nullifier(n.commitment, 3n, id.secretScalar));
    expect(n.nullifier(3, id.secretScalar)).to.not.equal(n.nullifier(4, id.secretScalar));
  });

  it("opening encodes as blinding(32) || value(8) and decodes back", () => {
    fc.assert(
      fc.property(field, value, field, (blinding, v, idc) => {
        const n = new Note(v, blinding, idc);
        const bytes = n.encodeOpening();
        expect(bytes.length).to.equal(NOTE_OPENING_BYTES);
        expect(BigInt("0x" + Buffer.from(bytes.subarray(0, 32)).toString("hex"))).to.equal(blinding);
        expect(BigInt("0x" + Buffer.from(bytes.subarray(32)).toString("hex"))).to.equal(v);
        const back = Note.decodeOpening(bytes, idc);
        expect([back.value, back.blinding, back.idc]).to.deep.equal([v, blinding, idc]);
      }),
    );
  });

  it("random blindings are field elements and distinct", () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 200; i++) {
      const b = Note.random(1n, 1n).blinding;
      expect(b >= 0n && b < FIELD_MODULUS).to.equal(true);
      seen.add(b);
    }
    expect(seen.size).to.equal(200);
  });

  it("refuses out-of-range values and malformed openings", () => {
    expect(() => new Note(1n << 64n, 1n, 1n)).to.throw(InvalidInputError, /64 bits/);
    expect(() => new Note(-1n, 1n, 1n)).to.throw(InvalidInputError, /negative/);
    expect(() => new Note(1n, FIELD_MODULUS, 1n)).to.throw(InvalidInputError, /blinding/);
    expect(() => Note.decodeOpening(new Uint8Array(39), 1n)).to.throw(InvalidInputError, /40 bytes/);
    expect(() => Note.decodeOpening(new Uint8Array(40).fill(0xff), 1n)).to.throw(InvalidInputError, /blinding/);
  });
});
