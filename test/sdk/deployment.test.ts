/**
 * The deployment record every face reads (sdk/actors/deployment.ts): a good record parses; a record of another
 * chain, a truncated file, a bad address or a missing field is refused naming the cause; chain kinds.
 */
import { expect } from "chai";
import { DeploymentRecordError, chainKind, parseDeploymentRecord, type DeploymentRecord } from "../../sdk/index.ts";

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const RECORD: DeploymentRecord = {
  version: 1,
  chainId: "31337",
  network: "localhost",
  deploymentBlock: 1,
  insecureProvingKeys: true,
  verificationKeys: { pay: "ab".repeat(32) },
  addresses: {
    token: A(1),
    registry: A(2),
    pool: A(3),
    payVerifier: A(4),
    transactVerifier: A(5),
    lockVerifier: A(6),
    closeVerifier: A(7),
    poseidon: { PoseidonT3: A(8), PoseidonT4: A(9), PoseidonT5: A(10), PoseidonT6: A(11) },
  },
  testToken: true,
  deployedAt: "2026-12-02T00:00:00.000Z",
};
const text = JSON.stringify(RECORD);

describe("deployment record", () => {
  it("parses a record, for its own chain", () => {
    expect(parseDeploymentRecord(text, "d.json", 31337n)).to.deep.equal(RECORD);
    expect(parseDeploymentRecord(text, "d.json")).to.deep.equal(RECORD);
  });

  it("refuses a record of another chain, naming both chain ids", () => {
    expect(() => parseDeploymentRecord(text, "d.json", 8453n)).to.throw(
      DeploymentRecordError,
      /deployment record d\.json is for chain 31337, but the node is chain 8453/,
    );
  });

  it("refuses a truncated file, a bad address, a missing field, an unknown field, another version", () => {
    const bad = (json: string, pattern: RegExp) =>
      expect(() => parseDeploymentRecord(json, "d.json")).to.throw(DeploymentRecordError, pattern);
    bad(text.slice(0, text.length - 1), /deployment record d\.json is not JSON/);
    bad(
      JSON.stringify({ ...RECORD, addresses: { ...RECORD.addresses, pool: "0x1234" } }),
      /addresses\.pool: expected a 0x-prefixed 20-byte address/,
    );
    const { deploymentBlock: _omitted, ...noBlock } = RECORD;
    bad(JSON.stringify(noBlock), /deploymentBlock: Required/);
    bad(JSON.stringify({ ...RECORD, extra: 1 }), /Unrecognized key/);
    bad(JSON.stringify({ ...RECORD, version: 2 }), /version: Invalid literal value, expected 1/);
    bad(
      JSON.stringify({ ...RECORD, deploymentBlock: -1 }),
      /deploymentBlock: Number must be greater than or equal to 0/,
    );
  });

  it("tells dev, test and production chains apart (unknown ids are production)", () => {
    expect(chainKind(31337n)).to.equal("dev");
    expect(chainKind(1337n)).to.equal("dev");
    expect(chainKind(11155111n)).to.equal("test");
    expect(chainKind(84532n)).to.equal("test");
    expect(chainKind(1n)).to.equal("production");
    expect(chainKind(8453n)).to.equal("production");
    expect(chainKind(0n)).to.equal("production");
    expect(chainKind(2n ** 256n - 1n)).to.equal("production");
  });
});
