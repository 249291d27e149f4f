/**
 * decryptNotes (a wallet's batched trial decryption, X25519 through WebCrypto where available) gives exactly what
 * decryptNote gives on each ciphertext: own notes, foreign ones, tampered, truncated, garbage, low-order keys.
 */
import { expect } from "chai";
import { decryptNote, decryptNotes, encryptNote } from "../../sdk/core/encryption.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Note } from "../../sdk/core/note.ts";

describe("decryptNotes", function () {
  it("agrees with decryptNote on every kind of ciphertext", async () => {
    const me = DriverIdentity.random();
    const other = DriverIdentity.random();
    const mine = [Note.random(me.commitment, 1n), Note.random(me.commitment, 2n)];
    const tampered = encryptNote(mine[0]!, me.encryptionPublicKey);
    tampered[40] ^= 1;
    const lowOrder = new Uint8Array(88); // ephemeral key 0: a low-order point
    const cts = [
      encryptNote(mine[0]!, me.encryptionPublicKey),
      encryptNote(Note.random(other.commitment, 3n), other.encryptionPublicKey),
      tampered,
      encryptNote(mine[1]!, me.encryptionPublicKey).subarray(0, 40),
      new Uint8Array(0),
      crypto.getRandomValues(new Uint8Array(88)),
      lowOrder,
      encryptNote(mine[1]!, me.encryptionPublicKey),
    ];
    const secret = me.encryptionKeyPair.secretKey;
    const batched = await decryptNotes(cts, secret, me.commitment);
    const single = cts.map((c) => decryptNote(c, secret, me.commitment));
    expect(batched.map((n) => n?.commitment ?? null)).to.deep.equal(single.map((n) => n?.commitment ?? null));
    expect(batched.map((n) => n?.value ?? null)).to.deep.equal([1n, null, null, null, null, null, null, 2n]);
    expect(await decryptNotes([], secret, me.commitment)).to.deep.equal([]);
  });
});
