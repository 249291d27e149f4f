import { expect } from "chai";
import { Base8, mulPointEscalar } from "@zk-kit/baby-jubjub";
import { Identity } from "@semaphore-protocol/identity";
import { x25519 } from "@noble/curves/ed25519.js";
import { BABYJUB_SUBGROUP_ORDER } from "../../sdk/core/constants.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { identityCommitment } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";

describe("sdk/identity", () => {
  it("random identities have 0 < s < l, pk = s*Base8 and idc = H_2(pk)", () => {
    for (let i = 0; i < 10; i++) {
      const id = DriverIdentity.random();
      expect(id.secretScalar > 0n && id.secretScalar < BABYJUB_SUBGROUP_ORDER).to.equal(true);
      const [x, y] = mulPointEscalar(Base8, id.secretScalar);
      expect(id.publicKey).to.deep.equal([x, y]);
      expect(id.commitment).to.equal(identityCommitment(x, y));
    }
  });

  it("export / fromSecret round-trips every key, and matches Semaphore's import", () => {
    const id = DriverIdentity.random();
    const back = DriverIdentity.fromSecret(id.export());
    expect(back.secretScalar).to.equal(id.secretScalar);
    expect(back.commitment).to.equal(id.commitment);
    expect(back.encryptionPublicKey).to.deep.equal(id.encryptionPublicKey);
    expect(back.encryptionKeyPair.secretKey).to.deep.equal(id.encryptionKeyPair.secretKey);
    expect(Identity.import(id.export()).commitment).to.equal(id.commitment);
  });

  it("derives a valid x25519 key pair, different per identity", () => {
    const a = DriverIdentity.random();
    const b = DriverIdentity.random();
    const kp = a.encryptionKeyPair;
    expect(kp.publicKey).to.deep.equal(x25519.getPublicKey(kp.secretKey));
    expect(kp.publicKey.length).to.equal(32);
    expect(Buffer.from(a.encryptionPublicKey).equals(Buffer.from(b.encryptionPublicKey))).to.equal(false);
    // Returned keys are copies: mutating them does not change the identity.
    kp.secretKey.fill(0);
    expect(a.encryptionKeyPair.secretKey.some((x) => x !== 0)).to.equal(true);
  });

  it("refuses secrets that are not an exported identity", () => {
    expect(() => DriverIdentity.fromSecret("not base64!")).to.throw(InvalidInputError, /base64/);
    expect(() => DriverIdentity.fromSecret("")).to.throw(InvalidInputError);
  });
});
