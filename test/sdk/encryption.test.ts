import { expect } from "chai";
import fc from "fast-check";
import { decrypt, decryptNote, encrypt, encryptNote, ENCRYPTED_NOTE_BYTES } from "../../sdk/core/encryption.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Note } from "../../sdk/core/note.ts";

describe("sdk/encryption", () => {
  const alice = DriverIdentity.random();
  const bob = DriverIdentity.random();

  it("round-trips a note opening to its owner", () => {
    const note = Note.random(alice.commitment, 12_345_678n);
    const ct = encryptNote(note, alice.encryptionPublicKey);
    expect(ct.length).to.equal(ENCRYPTED_NOTE_BYTES);
    const back = decryptNote(ct, alice.encryptionKeyPair.secretKey, alice.commitment);
    expect(back?.commitment).to.equal(note.commitment);
  });

  it("round-trips arbitrary bytes; each encryption is fresh", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (msg) => {
        const ct = encrypt(msg, bob.encryptionPublicKey);
        expect(ct.length).to.equal(32 + msg.length + 16);
        expect(decrypt(ct, bob.encryptionKeyPair.secretKey)).to.deep.equal(msg);
        expect(Buffer.from(encrypt(msg, bob.encryptionPublicKey)).equals(Buffer.from(ct))).to.equal(false);
      }),
      { numRuns: 30 },
    );
  });

  it("returns null, never throws, for a foreign key, tampering, truncation or garbage", () => {
    const ct = encryptNote(Note.random(alice.commitment, 1n), alice.encryptionPublicKey);
    expect(decryptNote(ct, bob.encryptionKeyPair.secretKey, bob.commitment)).to.equal(null);
    for (let i = 0; i < ct.length; i += 7) {
      const bad = ct.slice();
      bad[i]! ^= 1;
      expect(decrypt(bad, alice.encryptionKeyPair.secretKey), `flip byte ${i}`).to.equal(null);
    }
    expect(decrypt(ct.subarray(0, 47), alice.encryptionKeyPair.secretKey)).to.equal(null);
    expect(decrypt(new Uint8Array(0), alice.encryptionKeyPair.secretKey)).to.equal(null);
    expect(decrypt(new Uint8Array(88), alice.encryptionKeyPair.secretKey)).to.equal(null);
    expect(decrypt(ct, new Uint8Array(5))).to.equal(null);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (junk) => {
        expect(decrypt(junk, alice.encryptionKeyPair.secretKey)).to.equal(null);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses a malformed recipient key", () => {
    expect(() => encrypt(new Uint8Array(1), new Uint8Array(31))).to.throw(InvalidInputError, /32 bytes/);
    expect(() => encrypt(new Uint8Array(1), new Uint8Array(32))).to.throw(InvalidInputError, /low-order/);
  });
});
