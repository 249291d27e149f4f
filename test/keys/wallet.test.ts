/**
 * The driver's wallet file (sdk/keys/wallet.ts): it round-trips; a wrong passphrase, a file cut at any length, a
 * flipped byte in the ciphertext or in any header field is refused with the error that names the cause, and never
 * with part of what the file holds.
 */
import { expect } from "chai";
import {
  DriverIdentity,
  InvalidInputError,
  KeyFileFormatError,
  KeyFileIntegrityError,
  SCRYPT_TEST_ONLY,
  UnlockedWallet,
  WrongPassphraseError,
  decryptWallet,
  encryptWallet,
  type WalletContents,
} from "../../sdk/index.ts";

const PASS = "correct horse battery staple";
const cheap = { scrypt: SCRYPT_TEST_ONLY };

/** Resolves to the error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection, got a result");
}

/** `text` with the hex digit at `index` replaced by another one (a flipped nibble). */
function flipHex(text: string, index: number): string {
  const c = text[index]!;
  expect(c, `position ${index} is a hex digit`).to.match(/[0-9a-f]/);
  return text.slice(0, index) + (c === "0" ? "1" : "0") + text.slice(index + 1);
}

/** The position of the `n`-th hex digit of field `name`'s value in the file's text. */
function hexPosition(text: string, name: string, n: number): number {
  const at = text.indexOf(`"${name}": "`);
  expect(at, `field ${name}`).to.be.greaterThan(-1);
  return at + name.length + 5 + n;
}

describe("driver wallet file (scrypt + XChaCha20-Poly1305)", function () {
  this.timeout(60_000);
  const identity = DriverIdentity.random();
  const contents: WalletContents = {
    identitySecret: identity.export(),
    data: { notes: [{ value: "1000000", blinding: "0x1234" }], sessions: [], label: "Zoë's wallet ⚡" },
  };
  let file: string;
  before(async () => {
    file = await encryptWallet(contents, PASS, cheap);
  });

  it("round-trips the identity and the data, with the header the format documents", async () => {
    const opened = await decryptWallet(file, PASS);
    expect(opened).to.deep.equal(contents);
    expect(DriverIdentity.fromSecret(opened.identitySecret).commitment).to.equal(identity.commitment);
    const parsed = JSON.parse(file) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed)).to.deep.equal(["version", "kdf", "cipher", "ciphertext"]);
    expect(parsed.kdf).to.include({ name: "scrypt", N: 1024, r: 8, p: 1 });
    expect(parsed.cipher!.name).to.equal("xchacha20-poly1305");
    expect(parsed.cipher!.nonce).to.match(/^[0-9a-f]{48}$/);
    expect(file).not.to.contain(contents.identitySecret);
    // A fresh salt and nonce each time: the same contents never give the same file.
    expect(await encryptWallet(contents, PASS, cheap)).not.to.equal(file);
  });

  it("opens with the passphrase typed in another Unicode normal form (NFKC)", async () => {
    const composed = "caf\u00e9 pass";
    const text = await encryptWallet(contents, composed, cheap);
    expect(await decryptWallet(text, "cafe\u0301 pass")).to.deep.equal(contents);
  });

  it("refuses a wrong passphrase with WrongPassphraseError naming the file", async () => {
    const error = await rejection(decryptWallet(file, PASS + "!", { source: "wallet file driver.json" }));
    expect(error).to.be.instanceOf(WrongPassphraseError);
    expect(error.message).to.match(/^wallet file driver\.json: wrong passphrase/);
  });

  it("refuses the file cut at every length with KeyFileFormatError (no key derivation, no partial result)", async () => {
    const whole = file.trimEnd();
    for (let length = 0; length < whole.length; length++) {
      const error = await rejection(decryptWallet(whole.slice(0, length), PASS));
      expect(error, `cut at ${length}`).to.be.instanceOf(KeyFileFormatError);
      expect(error.message, `cut at ${length}`).to.match(/empty|not JSON, truncated or damaged/);
    }
    // Only trailing white space may go.
    expect(await decryptWallet(whole, PASS)).to.deep.equal(contents);
  });

  it("refuses a shortened field (a file that is still JSON) with the right error", async () => {
    const parsed = JSON.parse(file) as { ciphertext: string; cipher: { nonce: string }; kdf: { salt: string } };
    const edit = (f: (o: typeof parsed) => void) => {
      const o = JSON.parse(file) as typeof parsed;
      f(o);
      return JSON.stringify(o);
    };
    const cases: [string, string, RegExp, typeof KeyFileFormatError | typeof KeyFileIntegrityError][] = [
      [
        "odd hex",
        edit((o) => (o.ciphertext = o.ciphertext.slice(0, -1))),
        /ciphertext must be a hex/,
        KeyFileFormatError,
      ],
      ["no ciphertext", edit((o) => (o.ciphertext = "")), /shorter than its 16-byte tag/, KeyFileFormatError],
      [
        "tag only, cut",
        edit((o) => (o.ciphertext = o.ciphertext.slice(0, 30))),
        /15 bytes, shorter/,
        KeyFileFormatError,
      ],
      [
        "last byte gone",
        edit((o) => (o.ciphertext = o.ciphertext.slice(0, -2))),
        /fails authentication/,
        KeyFileIntegrityError,
      ],
      [
        "first byte gone",
        edit((o) => (o.ciphertext = o.ciphertext.slice(2))),
        /fails authentication/,
        KeyFileIntegrityError,
      ],
      [
        "short nonce",
        edit((o) => (o.cipher.nonce = o.cipher.nonce.slice(0, -2))),
        /nonce must be 24 bytes, got 23/,
        KeyFileFormatError,
      ],
      [
        "short salt",
        edit((o) => (o.kdf.salt = o.kdf.salt.slice(0, -2))),
        /salt must be 32 bytes, got 31/,
        KeyFileFormatError,
      ],
    ];
    for (const [name, text, message, kind] of cases) {
      const error = await rejection(decryptWallet(text, PASS));
      expect(error, name).to.be.instanceOf(kind);
      expect(error.message, name).to.match(message);
    }
  });

  it("refuses a flipped ciphertext byte (first, middle, tag) with KeyFileIntegrityError", async () => {
    const length = (JSON.parse(file) as { ciphertext: string }).ciphertext.length;
    for (const n of [0, Math.floor(length / 2), length - 1]) {
      const error = await rejection(decryptWallet(flipHex(file, hexPosition(file, "ciphertext", n)), PASS));
      expect(error, `hex digit ${n}`).to.be.instanceOf(KeyFileIntegrityError);
      expect(error.message).to.match(/passphrase is right, but the ciphertext or its header fails authentication/);
    }
  });

  it("binds the whole header: a changed nonce fails authentication, a changed kdf field the passphrase check", async () => {
    const nonce = await rejection(decryptWallet(flipHex(file, hexPosition(file, "nonce", 5)), PASS));
    expect(nonce).to.be.instanceOf(KeyFileIntegrityError);
    for (const field of ["salt", "check"]) {
      const error = await rejection(decryptWallet(flipHex(file, hexPosition(file, field, 7)), PASS));
      expect(error, field).to.be.instanceOf(WrongPassphraseError);
      expect(error.message).to.match(/key-derivation header was altered/);
    }
    const cost = await rejection(decryptWallet(file.replace('"N": 1024', '"N": 2048'), PASS));
    expect(cost).to.be.instanceOf(WrongPassphraseError);
    const r = await rejection(decryptWallet(file.replace('"r": 8', '"r": 9'), PASS));
    expect(r).to.be.instanceOf(WrongPassphraseError);
  });

  it("names an unknown version, algorithm, field or cost before deriving anything", async () => {
    const cases: [string, string, RegExp][] = [
      [
        "version 2",
        file.replace('"version": 1', '"version": 2'),
        /unsupported wallet file version 2 \(this SDK reads version 1\)/,
      ],
      ["no version", file.replace('"version": 1,', ""), /version is missing/],
      [
        "argon2",
        file.replace('"name": "scrypt"', '"name": "argon2id"'),
        /kdf\.name: unsupported key derivation "argon2id"/,
      ],
      ["aes", file.replace('"xchacha20-poly1305"', '"aes-256-gcm"'), /cipher\.name: unsupported cipher "aes-256-gcm"/],
      ["extra field", file.replace('"version": 1,', '"version": 1, "comment": "x",'), /comment: unknown field/],
      ["huge N", file.replace('"N": 1024', `"N": ${2 ** 40}`), /scrypt N must be a power of two from 2 to 2\^20/],
      ["N not 2^k", file.replace('"N": 1024', '"N": 1000'), /scrypt N must be a power of two/],
      ["p = 0", file.replace('"p": 1', '"p": 0'), /scrypt p must be a whole number/],
      ["array", "[]", /the file must be a JSON object/],
      ["keystore", JSON.stringify({ version: 3, crypto: {} }), /unsupported wallet file version 3/],
    ];
    for (const [name, text, message] of cases) {
      const error = await rejection(decryptWallet(text, PASS));
      expect(error, name).to.be.instanceOf(KeyFileFormatError);
      expect(error.message, name).to.match(message);
    }
  });

  it("keeps an opened wallet's key for rewrites: same salt, fresh nonce, opens with the passphrase; locked, it refuses", async () => {
    const first = await encryptWallet({ identitySecret: identity.export(), data: { n: 1 } }, PASS, cheap);
    const wallet = await UnlockedWallet.open(first, PASS);
    expect(wallet.contents.data).to.deep.equal({ n: 1 });
    const second = wallet.seal({ identitySecret: identity.export(), data: { n: 2 } });
    const [a, b] = [JSON.parse(first), JSON.parse(second)];
    expect(b.kdf).to.deep.equal(a.kdf);
    expect(b.cipher.nonce).to.not.equal(a.cipher.nonce);
    expect((await decryptWallet(second, PASS)).data).to.deep.equal({ n: 2 });
    expect(await rejection(decryptWallet(second, "wrong"))).to.be.instanceOf(WrongPassphraseError);
    wallet.lock();
    expect(() => wallet.seal({ identitySecret: identity.export(), data: null })).to.throw(/locked/);
    expect(await rejection(UnlockedWallet.open(second, "wrong"))).to.be.instanceOf(WrongPassphraseError);
  });

  it("refuses to encrypt what would not open: a bad identity, non-JSON data, an empty passphrase, a bad cost", async () => {
    const bad: [Promise<unknown>, RegExp][] = [
      [encryptWallet({ identitySecret: "not base64!", data: null }, PASS, cheap), /identity secret/],
      [encryptWallet({ ...contents, data: { n: 1n } as never }, PASS, cheap), /bigint is not JSON/],
      [encryptWallet({ ...contents, data: { n: Number.NaN } }, PASS, cheap), /NaN is not JSON/],
      [encryptWallet(contents, "", cheap), /passphrase is empty/],
      [encryptWallet(contents, PASS, { scrypt: { N: 1000, r: 8, p: 1 } }), /power of two/],
    ];
    for (const [promise, message] of bad) {
      const error = await rejection(promise);
      expect(error).to.be.instanceOf(InvalidInputError);
      expect(error.message).to.match(message);
    }
  });
});
