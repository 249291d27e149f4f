/**
 * Key files on disk (sdk/keys/files.ts, sdk/node/keyFiles.ts): written atomically with mode 0600, never over an
 * existing key file unless forced, an old file untouched by a write that fails before its rename; a missing file named;
 * and the passphrase taken from the environment, or refused with the variable to set when there is no terminal.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DriverIdentity,
  KeyFileAccessError,
  SCRYPT_TEST_ONLY,
  WrongPassphraseError,
  loadAccount,
  loadWallet,
  saveAccount,
  saveWallet,
  writeKeyFile,
} from "../../sdk/index.ts";

const SDK = fileURLToPath(new URL("../../sdk/index.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** util-linux `script`: runs a command on a pseudo-terminal (the prompt test is skipped without it). */
const SCRIPT = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));
const cheap = { scrypt: SCRYPT_TEST_ONLY };
const KEY_A = "0x" + "a1".repeat(32);
const KEY_B = "0x" + "b2".repeat(32);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection, got a result");
}

/** Runs `script` (ESM, TypeScript imports allowed) in a child Node with standard input closed, killed after 30 s. */
function runScript(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

/** The environment without any zkcharge passphrase variable. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ZKCHARGE_PASSPHRASE")));
}

describe("key files on disk", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-keys-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("saves and loads an account keystore and a wallet file, mode 0600, no temp file left", async () => {
    const path = join(dir, "nested", "relayer.json");
    const address = await saveAccount(path, KEY_A, "pw", cheap);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const wallet = await loadAccount(path, "pw");
    expect(wallet.address).to.equal(address);
    expect(wallet.privateKey).to.equal(KEY_A);
    expect(await rejection(loadAccount(path, "wrong"))).to.be.instanceOf(WrongPassphraseError);

    const walletPath = join(dir, "driver.json");
    const contents = { identitySecret: DriverIdentity.random().export(), data: { notes: [] } };
    await saveWallet(walletPath, contents, "pw", cheap);
    expect(statSync(walletPath).mode & 0o777).to.equal(0o600);
    expect(await loadWallet(walletPath, "pw")).to.deep.equal(contents);
    expect(readdirSync(dir).sort()).to.deep.equal(["driver.json", "nested"]);
    expect(readdirSync(join(dir, "nested"))).to.deep.equal(["relayer.json"]);
  });

  it("refuses to overwrite an existing key file (byte-identical after) unless forced", async () => {
    const path = join(dir, "cpo.json");
    await saveAccount(path, KEY_A, "pw", cheap);
    const before = readFileSync(path);
    const error = await rejection(saveAccount(path, KEY_B, "pw", cheap));
    expect(error).to.be.instanceOf(KeyFileAccessError);
    expect((error as KeyFileAccessError).code).to.equal("KEY_FILE_EXISTS");
    expect(error.message).to.match(/cpo\.json already exists: refusing to overwrite a key/);
    expect(readFileSync(path).equals(before)).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal(["cpo.json"]);
    // Any existing file counts, not only a keystore.
    writeFileSync(join(dir, "other.json"), "not a key");
    expect(() => writeKeyFile(join(dir, "other.json"), "{}")).to.throw(KeyFileAccessError, /already exists/);
    expect(readFileSync(join(dir, "other.json"), "utf8")).to.equal("not a key");

    await saveAccount(path, KEY_B, "pw", { ...cheap, force: true });
    expect((await loadAccount(path, "pw")).privateKey).to.equal(KEY_B);
  });

  it("leaves the old key file byte-identical when a forced write fails before the rename", async () => {
    const path = join(dir, "deployer.json");
    await saveAccount(path, KEY_A, "pw", cheap);
    const before = readFileSync(path);
    const crash = () => {
      throw new Error("simulated crash before rename");
    };
    const error = await rejection(
      saveAccount(path, KEY_B, "pw", { ...cheap, force: true, hooks: { beforeRename: crash } }),
    );
    expect(error.message).to.equal("simulated crash before rename");
    expect(readFileSync(path).equals(before)).to.equal(true);
    expect((await loadAccount(path, "pw")).privateKey).to.equal(KEY_A);
    expect(readdirSync(dir)).to.deep.equal(["deployer.json"]);
    // A new file whose write fails is not created at all.
    const fresh = join(dir, "fresh.json");
    expect(() => writeKeyFile(fresh, "{}", "key file", { hooks: { beforeRename: crash } })).to.throw(/simulated/);
    expect(readdirSync(dir)).to.deep.equal(["deployer.json"]);
  });

  it("names a missing key file", async () => {
    const error = await rejection(loadAccount(join(dir, "nope.json"), "pw"));
    expect(error).to.be.instanceOf(KeyFileAccessError);
    expect((error as KeyFileAccessError).code).to.equal("KEY_FILE_MISSING");
    expect(error.message).to.match(/keystore .*nope\.json does not exist/);
  });

  it("takes the passphrase from the per-role variable first, then ZKCHARGE_PASSPHRASE; with neither and no terminal, names them", async () => {
    const script = `
      import { readPassphrase, passphraseVariables } from ${JSON.stringify(SDK)};
      try {
        console.log("got:" + (await readPassphrase({ what: "the relayer keystore r.json", variables: passphraseVariables("relayer") })));
      } catch (error) {
        console.log(error.name + ": " + error.message);
        process.exitCode = 1;
      }`;
    const none = await runScript(script, cleanEnv());
    expect(none.code, none.err).to.equal(1);
    expect(none.out.trim()).to.equal(
      "PassphraseUnavailableError: no passphrase for the relayer keystore r.json: set ZKCHARGE_PASSPHRASE_RELAYER or " +
        "ZKCHARGE_PASSPHRASE (there is no terminal to ask on)",
    );
    const general = await runScript(script, { ...cleanEnv(), ZKCHARGE_PASSPHRASE: "general" });
    expect(general.out.trim()).to.equal("got:general");
    const role = await runScript(script, {
      ...cleanEnv(),
      ZKCHARGE_PASSPHRASE: "general",
      ZKCHARGE_PASSPHRASE_RELAYER: "per-role",
    });
    expect(role.out.trim()).to.equal("got:per-role");
  });
  it("on a terminal, asks without echo (twice for a new file) and refuses two different answers", async function () {
    if (!SCRIPT) {
      console.log("      (skipped: no util-linux `script` to give the child a pseudo-terminal)");
      this.skip();
    }
    const file = join(dir, "prompt.mts");
    writeFileSync(
      file,
      `import { readPassphrase } from ${JSON.stringify(SDK)};
      try {
        const p = await readPassphrase({ what: "the test key", variables: ["ZKCHARGE_TEST_UNSET_VARIABLE"], confirm: true });
        console.log("answer-ok:" + (p === "hunter2 \u00e9"));
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }`,
    );
    /** Runs the prompt on a pseudo-terminal; types each answer once the prompt before it is shown. */
    const onTerminal = (answers: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(SCRIPT!, ["-qec", `${process.execPath} --import tsx ${file}`, "/dev/null"], {
          cwd: ROOT,
          env: cleanEnv(),
          stdio: ["pipe", "pipe", "pipe"],
        });
        let out = "";
        let typed = 0;
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const prompts = (out.match(/Passphrase for the test key: |Again, to confirm: /g) ?? []).length;
          while (typed < prompts && typed < answers.length) child.stdin.write(answers[typed++] + "\r");
          if (typed === answers.length) child.stdin.end();
        });
        const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.once("error", reject);
        child.once("close", () => {
          clearTimeout(killer);
          resolve(out);
        });
      });
    const same = await onTerminal(["hunter2 \u00e9", "hunter2 \u00e9"]);
    expect(same).to.contain("answer-ok:true");
    expect(same, "the passphrase was echoed").not.to.contain("hunter2");
    const differ = await onTerminal(["hunter2 \u00e9", "hunter3"]);
    expect(differ).to.contain("PassphraseUnavailableError: the two passphrases for the test key differ");
    expect(differ).not.to.match(/hunter/);
  });
});
