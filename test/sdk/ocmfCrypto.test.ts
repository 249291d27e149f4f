/**
 * OCMF's seven ECDSA-SHA256 algorithms checked against an independent implementation (Node's OpenSSL): keys and DER
 * signatures made by OpenSSL verify with the SDK, signatures made by the SDK verify with OpenSSL, and everything
 * tampered, malformed or on the wrong curve is refused.
 */
import { expect } from "chai";
import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import {
  OCMF_ALGORITHMS,
  OcmfEncodingError,
  bytesToHex,
  decodePublicKey,
  ocmfKeygen,
  signEcdsa,
  verifyEcdsa,
  type OcmfAlgorithm,
} from "../../sdk/meter/ocmfCrypto.ts";

/** OpenSSL's names for OCMF's curves. */
const OPENSSL_CURVE: Record<OcmfAlgorithm, string> = {
  "ECDSA-secp192k1-SHA256": "secp192k1",
  "ECDSA-secp256k1-SHA256": "secp256k1",
  "ECDSA-secp192r1-SHA256": "prime192v1",
  "ECDSA-secp256r1-SHA256": "prime256v1",
  "ECDSA-brainpool256r1-SHA256": "brainpoolP256r1",
  "ECDSA-secp384r1-SHA256": "secp384r1",
  "ECDSA-brainpool384r1-SHA256": "brainpoolP384r1",
};

const MESSAGE = new TextEncoder().encode(
  '{"FV":"1.0","GI":"zkcharge test","RD":[{"TM":"2026-12-01T10:00:00,000+0000 S","TX":"B","RV":0.1,"RU":"kWh"}]}',
);

describe("sdk: OCMF signatures (ECDSA-SHA256 on every OCMF curve)", () => {
  for (const algorithm of OCMF_ALGORITHMS) {
    describe(algorithm, () => {
      const openssl = generateKeyPairSync("ec", { namedCurve: OPENSSL_CURVE[algorithm] });
      const spkiHex = bytesToHex(openssl.publicKey.export({ type: "spki", format: "der" }));

      it("verifies an OpenSSL signature with an SPKI key; refuses a changed message, a changed signature, a wrong curve", () => {
        const sig = sign("sha256", MESSAGE, openssl.privateKey);
        const key = decodePublicKey(spkiHex);
        expect(verifyEcdsa(algorithm, sig, MESSAGE, key)).to.equal(true);
        const changed = MESSAGE.slice();
        changed[10] ^= 1;
        expect(verifyEcdsa(algorithm, sig, changed, key)).to.equal(false);
        const flipped = Uint8Array.from(sig);
        flipped[flipped.length - 1] ^= 1;
        expect(verifyEcdsa(algorithm, flipped, MESSAGE, key)).to.equal(false);
        const other = OCMF_ALGORITHMS.find((a) => a !== algorithm)!;
        expect(() => verifyEcdsa(other, sig, MESSAGE, key)).to.throw(OcmfEncodingError, /public key is on/);
      });

      it("signs so that OpenSSL verifies, with a raw uncompressed point as the key", () => {
        const { secretKey, publicKey } = ocmfKeygen(algorithm);
        const sig = signEcdsa(algorithm, MESSAGE, secretKey);
        expect(verifyEcdsa(algorithm, sig, MESSAGE, decodePublicKey(bytesToHex(publicKey)))).to.equal(true);
        const opensslKey = createPublicKey({ key: spkiOf(algorithm, publicKey), format: "der", type: "spki" });
        expect(verify("sha256", MESSAGE, opensslKey, sig)).to.equal(true);
      });

      it("takes strict DER only, unless told to be lenient", () => {
        const sig = sign("sha256", MESSAGE, openssl.privateKey);
        const padded = padFirstInteger(sig);
        const key = decodePublicKey(spkiHex);
        expect(() => verifyEcdsa(algorithm, padded, MESSAGE, key)).to.throw(OcmfEncodingError, /non-minimal INTEGER/);
        expect(verifyEcdsa(algorithm, padded, MESSAGE, key, { lenientSignature: true })).to.equal(true);
        expect(() => verifyEcdsa(algorithm, Uint8Array.of(0x30, 0x00), MESSAGE, key)).to.throw(OcmfEncodingError);
      });
    });
  }

  it("refuses a point that is not on the curve", () => {
    const { publicKey } = ocmfKeygen("ECDSA-secp256r1-SHA256");
    const bad = Uint8Array.from(publicKey);
    bad[bad.length - 1] ^= 1;
    const sig = signEcdsa("ECDSA-secp256r1-SHA256", MESSAGE, ocmfKeygen("ECDSA-secp256r1-SHA256").secretKey);
    expect(() => verifyEcdsa("ECDSA-secp256r1-SHA256", sig, MESSAGE, decodePublicKey(bad))).to.throw(
      OcmfEncodingError,
      /not a point on/,
    );
  });
});

/** DER SubjectPublicKeyInfo of a raw uncompressed point: an OpenSSL key of the same curve with its point swapped. */
function spkiOf(algorithm: OcmfAlgorithm, point: Uint8Array): Buffer {
  const template = generateKeyPairSync("ec", { namedCurve: OPENSSL_CURVE[algorithm] }).publicKey.export({
    type: "spki",
    format: "der",
  });
  // The SPKI ends with the BIT STRING holding the uncompressed point: swap in ours (same length).
  const out = Buffer.from(template);
  Buffer.from(point).copy(out, out.length - point.length);
  return out;
}

/**
 * The same DER signature with one superfluous leading zero byte in r: the same value, a non-minimal encoding (when r
 * already carries its sign byte, the extra zero still precedes a byte without the high bit).
 */
function padFirstInteger(sig: Uint8Array): Uint8Array {
  const rLen = sig[3]!;
  const body = [0x02, rLen + 1, 0x00, ...sig.subarray(4, 4 + rLen), ...sig.subarray(4 + rLen)];
  return Uint8Array.of(0x30, body.length, ...body);
}
