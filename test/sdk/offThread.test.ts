/**
 * Off-thread trial decryption and tree building (sdk/core/offThread.ts) on real worker threads give exactly what
 * the in-thread functions give: decryptNotes element for element, `new NoteTree(leaves)` node for node.
 */
import { expect } from "chai";
import { FIELD_MODULUS } from "../../sdk/core/constants.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { decryptNotes, encryptNote } from "../../sdk/core/encryption.ts";
import { randomFieldElement } from "../../sdk/core/field.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Note } from "../../sdk/core/note.ts";
import { buildNoteTree, decryptNotesOffThread } from "../../sdk/core/offThread.ts";
import { NoteTree } from "../../sdk/core/tree.ts";

describe("off-thread decryption and tree building", function () {
  this.timeout(120_000);
  const all = { minItems: 0 }; // hand even a few items to the workers

  it("decrypts on worker threads exactly as decryptNotes does", async () => {
    const me = DriverIdentity.random();
    const other = DriverIdentity.random();
    const mine = Array.from({ length: 5 }, (_, i) => Note.random(me.commitment, BigInt(i + 1)));
    const tampered = encryptNote(mine[0]!, me.encryptionPublicKey);
    tampered[40] ^= 1;
    const cts = [
      ...Array.from({ length: 300 }, () => crypto.getRandomValues(new Uint8Array(88))),
      ...mine.map((n) => encryptNote(n, me.encryptionPublicKey)),
      encryptNote(Note.random(other.commitment, 3n), other.encryptionPublicKey),
      tampered,
      encryptNote(mine[1]!, me.encryptionPublicKey).subarray(0, 40),
      new Uint8Array(0),
      new Uint8Array(88), // ephemeral key 0: a low-order point
    ];
    cts.sort(() => Math.random() - 0.5);
    const secret = me.encryptionKeyPair.secretKey;
    const inThread = await decryptNotes(cts, secret, me.commitment);
    const offThread = await decryptNotesOffThread(cts, secret, me.commitment, all);
    const view = (n: Note | null) => (n ? [n.commitment, n.value, n.blinding] : null);
    expect(offThread.map(view)).to.deep.equal(inThread.map(view));
    expect(offThread.filter((n) => n !== null).length).to.equal(5);
    expect(await decryptNotesOffThread([], secret, me.commitment, all)).to.deep.equal([]);
  });

  it("builds the same tree as new NoteTree, node for node, for every shape", async () => {
    const random = 300 + Math.floor(Math.random() * 700);
    for (const size of [0, 1, 2, 255, 256, 257, random]) {
      const leaves = Array.from({ length: size }, () => randomFieldElement());
      const sequential = new NoteTree(leaves);
      for (const blockLeaves of [1, 16, 64]) {
        const parallel = await buildNoteTree(leaves, { ...all, blockLeaves });
        expect(parallel.root, `root of ${size} leaves, blocks of ${blockLeaves}`).to.equal(sequential.root);
        expect(parallel.exportNodes(), `nodes of ${size} leaves, blocks of ${blockLeaves}`).to.equal(
          sequential.exportNodes(),
        );
        expect(parallel.size).to.equal(size);
      }
    }
    // The tree built off-thread keeps growing like any other.
    const leaves = Array.from({ length: 100 }, () => randomFieldElement());
    const grown = await buildNoteTree(leaves, { ...all, blockLeaves: 8 });
    grown.insertMany([7n, 8n, 9n]);
    expect(grown.exportNodes()).to.equal(new NoteTree([...leaves, 7n, 8n, 9n]).exportNodes());
  });

  it("refuses a leaf that is not a field element by name, as new NoteTree does (the workers' hash would reduce it)", async () => {
    for (const bad of [FIELD_MODULUS, FIELD_MODULUS + 1n, 2n ** 256n, -1n]) {
      const leaves = Array.from({ length: 64 }, () => randomFieldElement());
      leaves[37] = bad;
      expect(() => new NoteTree(leaves)).to.throw(InvalidInputError, /leaf 37/);
      const refused = await buildNoteTree(leaves, { ...all, blockLeaves: 16 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused, `leaf ${bad}`).to.be.instanceOf(InvalidInputError);
      expect((refused as Error).message).to.match(/leaf 37/);
    }
  });
});
