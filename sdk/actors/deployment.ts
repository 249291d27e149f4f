/**
 * Where zkcharge lives on a chain: the deployment record `npm run deploy` writes per chain id
 * (`deployments/<chainId>.json`) and every face reads (wallet, station, relayer, CLI), and what kind of chain an id
 * is. The record carries the deployment block, so a wallet reads events from there rather than from block 0, and
 * whether the verifiers were generated from insecure development proving keys.
 *
 * Parsing only: reading the file is the face's business (the SDK runs in a browser too).
 */
import { z } from "zod";
import { ZkchargeError } from "../core/errors.ts";

/** Current version of the deployment record format. */
export const DEPLOYMENT_RECORD_VERSION = 1;

/** Chains whose state anyone may rewrite (local nodes): unlocked accounts, test tokens, dev proving keys. */
export const DEV_CHAIN_IDS: ReadonlySet<bigint> = new Set([31337n, 1337n]);

/**
 * Public test networks: worthless money, so development proving keys and the test token are acceptable there.
 * Sepolia, Holesky, Hoodi, Base Sepolia, OP Sepolia, Arbitrum Sepolia, Polygon Amoy, Scroll Sepolia, Linea Sepolia.
 */
export const TEST_CHAIN_IDS: ReadonlySet<bigint> = new Set([
  11155111n,
  17000n,
  560048n,
  84532n,
  11155420n,
  421614n,
  80002n,
  534351n,
  59141n,
]);

/** What a chain id is: a local dev chain, a public test network, or a chain where money is real. */
export type ChainKind = "dev" | "test" | "production";

/** The kind of chain `chainId` is (unknown ids are production: the safe default). */
export function chainKind(chainId: bigint): ChainKind {
  if (DEV_CHAIN_IDS.has(chainId)) return "dev";
  if (TEST_CHAIN_IDS.has(chainId)) return "test";
  return "production";
}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte address");

const recordSchema = z
  .object({
    version: z.literal(DEPLOYMENT_RECORD_VERSION),
    chainId: z.string().regex(/^\d+$/, "expected a decimal chain id"),
    network: z.string(),
    /** A block at or before the Pool's and the Registry's creation: where event scans start. */
    deploymentBlock: z.number().int().nonnegative(),
    /** True if the verifiers come from development proving keys (anyone may forge proofs: dev/test chains only). */
    insecureProvingKeys: z.boolean(),
    /** sha256 of each circuit's verification key the deployed verifiers were generated from (build manifest). */
    verificationKeys: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
    addresses: z
      .object({
        token: address,
        registry: address,
        pool: address,
        payVerifier: address,
        transactVerifier: address,
        lockVerifier: address,
        closeVerifier: address,
        poseidon: z.object({ PoseidonT3: address, PoseidonT4: address, PoseidonT5: address, PoseidonT6: address }),
      })
      .strict(),
    /** True if `token` is the mintable TestToken deployed with it. */
    testToken: z.boolean(),
    deployedAt: z.string(),
  })
  .strict();

/** A deployment record (`deployments/<chainId>.json`). */
export type DeploymentRecord = z.infer<typeof recordSchema>;

/** A deployment record that is malformed, or for another chain than the one connected to. */
export class DeploymentRecordError extends ZkchargeError {
  /** @param message what is wrong with which record */
  constructor(message: string) {
    super("DEPLOYMENT_RECORD", message);
  }
}

/**
 * Parses a deployment record (`source` names it in errors, e.g. its path). If `chainId` is given, the record must
 * be for that chain: a record for another chain would point a wallet at foreign or missing contracts.
 * @throws DeploymentRecordError naming the first bad field, or both chain ids
 */
export function parseDeploymentRecord(json: string, source: string, chainId?: bigint): DeploymentRecord {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new DeploymentRecordError(`deployment record ${source} is not JSON: ${(error as Error).message}`);
  }
  const parsed = recordSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeploymentRecordError(
      `deployment record ${source}: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
  if (chainId !== undefined && BigInt(parsed.data.chainId) !== chainId) {
    throw new DeploymentRecordError(
      `deployment record ${source} is for chain ${parsed.data.chainId}, but the node is chain ${chainId}: ` +
        "use the record of this chain (deployments/<chainId>.json), or deploy to it",
    );
  }
  return parsed.data;
}
