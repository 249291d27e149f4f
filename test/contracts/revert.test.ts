/**
 * Contract reverts read in words, in-process and over JSON-RPC: a custom error (with and without arguments) decodes
 * to its name and named arguments from the zkcharge ABIs wherever the provider nests the revert data. Over JSON-RPC
 * ethers itself only says "execution reverted (unknown custom error)" for a contract it has no ABI for.
 */
import { expect } from "chai";
import { createServer } from "node:net";
import { Contract, JsonRpcProvider, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";
import { deployZkcharge } from "../../dev/deploy.ts";
import { ContractRevertError, decodeRevert, withRevertReason } from "../../sdk/actors/revert.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail("expected a revert");
}

describe("contract reverts in words", function () {
  it("decodes custom errors in-process: without arguments, and a token error with its arguments", async () => {
    const { ethers } = await network.create();
    const d = await deployZkcharge(ethers);
    const [, stranger] = await ethers.getSigners();
    const zero = decodeRevert(await rejection(d.registry.connect(stranger!).registerCpo(ZeroAddress)));
    expect(zero?.name).to.equal("Registry__ZeroAddress");
    expect(zero?.text).to.equal("Registry__ZeroAddress()");

    // A deposit without an allowance: the token's ERC20InsufficientAllowance bubbles up through the pool.
    const err = await rejection(
      withRevertReason("deposit", () => d.pool.connect(stranger!).deposit(1n, 1_000_000n, "0x")),
    );
    expect(err).to.be.instanceOf(ContractRevertError);
    const revert = (err as ContractRevertError).revert;
    expect(revert.name).to.equal("ERC20InsufficientAllowance");
    expect(revert.args.map((a) => a.name)).to.deep.equal(["spender", "allowance", "needed"]);
    expect(revert.args[2]!.value).to.equal(1_000_000n);
    expect((err as Error).message).to.match(
      /^deposit reverted: ERC20InsufficientAllowance\(spender = 0x[0-9a-fA-F]{40}, allowance = 0, needed = 1000000\)$/,
    );
  });

  describe("over JSON-RPC (a Hardhat node on 127.0.0.1)", function () {
    let server: JsonRpcServer | undefined;
    let provider: JsonRpcProvider | undefined;

    after(async () => {
      provider?.destroy();
      await server?.close();
    });

    it("finds the revert data nested in the provider's error and names the error and its arguments", async () => {
      server = await network.createServer(undefined, "127.0.0.1", await freePort());
      const { address, port } = await server.listen();
      const url = `http://${address}:${port}`;
      const connection = await network.create({ network: "localhost", override: { url } });
      const d = await deployZkcharge(connection.ethers);
      provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
      const stranger = await provider.getSigner(1);

      // Through a contract handle without the pool's ABI, as a generic client (or an older CLI) would call it.
      const bare = new Contract(await d.pool.getAddress(), ["function withdraw(uint256 cpoId)"], stranger);
      const raw = await rejection(bare.getFunction("withdraw")(12345n));
      expect((raw as Error).message).to.match(/unknown custom error|execution reverted/);
      expect(decodeRevert(raw)?.text).to.equal("Pool__NotCpoAdmin()");

      const allowance = await rejection(d.pool.connect(stranger).deposit(ZeroHash, 5n, "0x"));
      const revert = decodeRevert(allowance);
      expect(revert?.name).to.equal("ERC20InsufficientAllowance");
      expect(revert?.args[1]!.value).to.equal(0n);
      expect(revert?.args[2]!.value).to.equal(5n);
    });
  });

  it("leaves errors without revert data alone", () => {
    expect(decodeRevert(new Error("socket hang up"))).to.equal(undefined);
    expect(decodeRevert({ data: "0x" })).to.equal(undefined);
    expect(decodeRevert({ info: { error: { data: "0xdeadbeef00" } } })).to.equal(undefined);
  });
});
