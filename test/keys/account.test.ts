/**
 * Account keystores (sdk/keys/account.ts): ethers JSON keystores that round-trip (and open in ethers itself), with a
 * wrong passphrase, a truncated or damaged file, an absurd cost or a forged address each refused by a named error.
 */
import { expect } from "chai";
import { Wallet, encryptKeystoreJson } from "ethers";
import {
  InvalidInputError,
  KeyFileFormatError,
  SCRYPT_TEST_ONLY,
  WrongPassphraseError,
  decryptAccount,
  encryptAccount,
  keystoreAddress,
} from "../../sdk/index.ts";

const PASS = "relayer passphrase";
const KEY = "0x" + "11".repeat(32);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection, got a result");
}

describe("account keystores (ethers JSON keystore)", function () {
  this.timeout(60_000);
  const account = new Wallet(KEY);
  let file: string;
  before(async () => {
    file = await encryptAccount(KEY, PASS, { scrypt: SCRYPT_TEST_ONLY });
  });

  it("round-trips a private key; ethers opens it, and it opens what ethers writes", async () => {
    const opened = await decryptAccount(file, PASS);
    expect(opened.address).to.equal(account.address);
    expect(opened.privateKey).to.equal(KEY);
    expect(keystoreAddress(file)).to.equal(account.address);
    const parsed = JSON.parse(file) as { version: number; Crypto: { kdf: string; kdfparams: { n: number } } };
    expect(parsed.version).to.equal(3);
    expect(parsed.Crypto.kdf).to.equal("scrypt");
    expect(parsed.Crypto.kdfparams.n).to.equal(1024);
    expect((await Wallet.fromEncryptedJson(file, PASS)).address).to.equal(account.address);
    const byEthers = await encryptKeystoreJson({ address: account.address, privateKey: KEY }, PASS, {
      scrypt: { N: 1024 },
    });
    expect((await decryptAccount(byEthers, PASS)).address).to.equal(account.address);
  });

  it("refuses a wrong passphrase with WrongPassphraseError naming the file", async () => {
    const error = await rejection(decryptAccount(file, "nope", { source: "keystore cpo.json" }));
    expect(error).to.be.instanceOf(WrongPassphraseError);
    expect(error.message).to.match(/^keystore cpo\.json: wrong passphrase/);
  });

  it("refuses the file cut at every length with KeyFileFormatError", async () => {
    const whole = file.trimEnd();
    for (let length = 0; length < whole.length; length++) {
      const error = await rejection(decryptAccount(whole.slice(0, length), PASS));
      expect(error, `cut at ${length}`).to.be.instanceOf(KeyFileFormatError);
    }
    const o = JSON.parse(file) as { Crypto: { ciphertext: string } };
    o.Crypto.ciphertext = o.Crypto.ciphertext.slice(0, -2);
    const short = await rejection(decryptAccount(JSON.stringify(o), PASS));
    expect(short).to.be.instanceOf(KeyFileFormatError);
    expect(short.message).to.match(/ciphertext must be 32 bytes/);
  });

  it("a flipped ciphertext or MAC byte fails the MAC (reported as a wrong passphrase or an altered file)", async () => {
    for (const field of ["ciphertext", "mac"] as const) {
      const o = JSON.parse(file) as { Crypto: Record<string, string> };
      const v = o.Crypto[field]!;
      o.Crypto[field] = (v[0] === "0" ? "1" : "0") + v.slice(1);
      const error = await rejection(decryptAccount(JSON.stringify(o), PASS));
      expect(error, field).to.be.instanceOf(WrongPassphraseError);
      expect(error.message).to.match(/altered or damaged: its MAC fails/);
    }
  });

  it("refuses a forged address, an unknown version or cipher and an absurd cost, naming each", async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits the parsed JSON into invalid shapes on purpose
    type Json = Record<string, any>;
    const edit = (f: (o: Json) => void): string => {
      const o = JSON.parse(file) as Json;
      f(o);
      return JSON.stringify(o);
    };
    const cases: [string, string, RegExp][] = [
      ["forged address", edit((o) => (o.address = "00".repeat(19) + "01")), /address\/privateKey mismatch/],
      ["version 4", edit((o) => (o.version = 4)), /unsupported keystore version 4/],
      ["no version", edit((o) => delete o.version), /version is missing/],
      ["cipher", edit((o) => (o.Crypto.cipher = "aes-256-cbc")), /crypto\.cipher: unsupported "aes-256-cbc"/],
      ["kdf", edit((o) => (o.Crypto.kdf = "argon2")), /unsupported key derivation "argon2"/],
      ["huge n", edit((o) => (o.Crypto.kdfparams.n = 2 ** 30)), /scrypt N must be a power of two from 2 to 2\^20/],
      ["no mac", edit((o) => delete o.Crypto.mac), /crypto\.mac is missing/],
      ["bad address", edit((o) => (o.address = "zz")), /is not an Ethereum address/],
      [
        "a wallet file",
        JSON.stringify({ version: 1, kdf: {}, cipher: {}, ciphertext: "" }),
        /unsupported keystore version 1/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const error = await rejection(decryptAccount(text, PASS));
      expect(error, name).to.be.instanceOf(KeyFileFormatError);
      expect(error.message, name).to.match(message);
    }
  });

  it("refuses a malformed private key or an empty passphrase", async () => {
    for (const key of ["0x1234", "0x" + "00".repeat(32), "0x" + "ff".repeat(32), "zz".repeat(32)]) {
      const error = await rejection(encryptAccount(key, PASS, { scrypt: SCRYPT_TEST_ONLY }));
      expect(error, key).to.be.instanceOf(InvalidInputError);
    }
    expect(await rejection(encryptAccount(KEY, "", { scrypt: SCRYPT_TEST_ONLY }))).to.be.instanceOf(InvalidInputError);
    // 64 hex digits without 0x are taken as the key.
    const bare = await encryptAccount(KEY.slice(2), PASS, { scrypt: SCRYPT_TEST_ONLY });
    expect(keystoreAddress(bare)).to.equal(account.address);
  });
});
