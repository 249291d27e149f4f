/**
 * `npm run deploy -- --network <name>`: deploys zkcharge with Hardhat Ignition from configuration alone, and
 * records where it lives (`deployments/<chainId>.json`, read by every face).
 *
 *   --network <name>         a network of hardhat.config.ts (localhost, anvil, sepolia, baseSepolia, ...)
 *   --rpc <url>              override the network's JSON-RPC URL
 *   --parameters <file>      Ignition parameters (default ignition/parameters/<network>.json)
 *   --out <dir>              where the deployment record goes (default deployments/)
 *   --deployment-id <id>     Ignition journal id (default chain-<chainId>)
 *   --confirmations <n>      blocks to wait per transaction (default 1 on dev chains, else 5)
 *   --allow-insecure-keys    deploy verifiers of development proving keys to a chain not marked dev or test
 *
 * The deployer: on a dev chain (sdk chainKind) the node's first unlocked account; anywhere else an encrypted
 * ethers JSON keystore (`ZKCHARGE_DEPLOYER_KEYSTORE`, passphrase `ZKCHARGE_DEPLOYER_PASSPHRASE`), decrypted in
 * memory only. Before sending anything it checks, in order: the parameters file is for the connected chain id;
 * development proving keys (build/circuits/manifest.json `insecure`) go only to dev and test chains; the test token
 * only to dev and test chains; a given token is a contract with 6 decimals. A re-run resumes or reuses the Ignition
 * journal (nothing is deployed twice); on a dev chain a journal whose contracts are gone (the node was restarted)
 * is discarded.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { Contract, JsonRpcProvider } from "ethers";
import { network } from "hardhat";
import {
  DEPLOYMENT_RECORD_VERSION,
  ZkchargeError,
  chainKind,
  loadAccount,
  parseDeploymentRecord,
  passphraseVariables,
  readPassphrase,
  writeFileAtomic,
  type ChainKind,
  type DeploymentRecord,
} from "../sdk/index.ts";
import { REPO_ROOT } from "../prover/node/fileSource.ts";
import type { Manifest } from "../prover/artifacts.ts";
import {
  POSEIDON_LIBRARIES,
  canonicalPoseidonAddress,
  zkchargeDevModule,
  zkchargeModule,
  type PoseidonSource,
} from "../ignition/modules/Zkcharge.ts";

/** A refusal or a failure with its cause named; printed as one line, exit code 2. */
class DeployError extends Error {}

interface Options {
  network: string;
  rpc?: string;
  parameters?: string;
  out: string;
  deploymentId?: string;
  confirmations?: string;
  allowInsecureKeys?: boolean;
}

/** Ignition parameters as written in ignition/parameters/<network>.json. */
interface ParametersFile {
  $global?: { chainId?: number | string };
  Zkcharge?: { token?: string };
  [module: string]: unknown;
}

function readParameters(path: string): ParametersFile {
  if (!existsSync(path)) throw new DeployError(`parameters file ${path} not found (create it, or pass --parameters)`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as ParametersFile;
  } catch (error) {
    throw new DeployError(`parameters file ${path} is not JSON: ${(error as Error).message}`);
  }
}

/** The deployer's private key from its encrypted keystore (decrypted in memory, never written anywhere). */
async function deployerKey(): Promise<string> {
  const path = process.env.ZKCHARGE_DEPLOYER_KEYSTORE;
  if (!path) {
    throw new DeployError(
      "no deployer account: on a chain that is not a dev chain, set ZKCHARGE_DEPLOYER_KEYSTORE to an encrypted " +
        "JSON keystore (`zkcharge key new`; passphrase in ZKCHARGE_DEPLOYER_PASSPHRASE or at the prompt); " +
        "unlocked node accounts are used on dev chains only",
    );
  }
  try {
    const passphrase = await readPassphrase({
      what: `the deployer keystore ${path}`,
      variables: ["ZKCHARGE_DEPLOYER_PASSPHRASE", ...passphraseVariables("deployer")],
    });
    return (await loadAccount(path, passphrase)).privateKey;
  } catch (error) {
    if (error instanceof ZkchargeError) throw new DeployError(`deployer ${error.message}`);
    throw error;
  }
}

/** Whether every canonical Poseidon library already holds code on this chain (then they are linked, not deployed). */
async function poseidonSource(provider: JsonRpcProvider): Promise<PoseidonSource> {
  const codes = await Promise.all(POSEIDON_LIBRARIES.map((n) => provider.getCode(canonicalPoseidonAddress(n))));
  return codes.every((c) => c !== "0x") ? "canonical" : "deploy";
}

async function main(o: Options): Promise<void> {
  const parametersPath = resolve(o.parameters ?? join("ignition", "parameters", `${o.network}.json`));
  const params = readParameters(parametersPath);

  // The chain id first, over a plain provider: which deployer and which checks apply depend on it.
  const probe = await network.connect({ network: o.network, override: o.rpc ? { url: o.rpc } : {} });
  const url = "url" in probe.networkConfig ? await probe.networkConfig.url.get() : undefined;
  await probe.close();
  if (url === undefined) throw new DeployError(`network ${o.network} is not an HTTP network`);
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (error) {
    provider.destroy();
    throw new DeployError(`cannot reach ${url} (network ${o.network}): ${(error as Error).message}`);
  }
  try {
    await deploy(o, params, parametersPath, url, provider, chainId);
  } finally {
    provider.destroy();
  }
}

async function deploy(
  o: Options,
  params: ParametersFile,
  parametersPath: string,
  url: string,
  provider: JsonRpcProvider,
  chainId: bigint,
): Promise<void> {
  const kind: ChainKind = chainKind(chainId);
  const declared = params.$global?.chainId;
  if (declared === undefined) throw new DeployError(`parameters file ${parametersPath}: set $global.chainId`);
  if (BigInt(declared) !== chainId) {
    throw new DeployError(
      `parameters file ${parametersPath} is for chain ${declared}, but ${o.network} is chain ${chainId}: ` +
        "nothing was sent",
    );
  }
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "build", "circuits", "manifest.json"), "utf8")) as Manifest;
  if (manifest.insecure && kind === "production" && !o.allowInsecureKeys) {
    throw new DeployError(
      `refusing to deploy verifiers of insecure development proving keys (build/circuits/manifest.json) to chain ` +
        `${chainId}, which is not a dev or test chain: anyone could forge proofs and drain the pool. Build ` +
        "production keys (npm run build:circuits -- --production ...), or pass --allow-insecure-keys",
    );
  }
  const token = params.Zkcharge?.token;
  if (token === undefined && kind === "production") {
    throw new DeployError(
      `parameters file ${parametersPath}: set Zkcharge.token (the settlement ERC-20): the mintable test token is ` +
        "for dev and test chains only",
    );
  }
  if (token !== undefined) {
    if ((await provider.getCode(token)) === "0x")
      throw new DeployError(`token ${token} has no code on chain ${chainId}`);
    const decimals = await new Contract(token, ["function decimals() view returns (uint8)"], provider)
      .getFunction("decimals")()
      .catch(() => undefined);
    if (decimals !== 6n) throw new DeployError(`token ${token} must have 6 decimals (has ${decimals ?? "none"})`);
  }

  const deploymentId = o.deploymentId ?? `chain-${chainId}`;
  const journal = resolve(REPO_ROOT, process.env.ZKCHARGE_IGNITION_DIR ?? "ignition", "deployments", deploymentId);
  if (kind === "dev") await discardStaleDevJournal(journal, provider);

  const override = kind === "dev" ? { url } : { url, accounts: [await deployerKey()] };
  const connection = await network.connect({ network: o.network, override });
  try {
    const poseidon = await poseidonSource(provider);
    const blockBefore = await provider.getBlockNumber();
    const confirmations = Number(o.confirmations ?? (kind === "dev" ? 1 : 5));
    const deployed = (await connection.ignition.deploy(
      token === undefined ? zkchargeDevModule(poseidon) : zkchargeModule(poseidon),
      {
        parameters: params as never,
        deploymentId,
        config: { requiredConfirmations: confirmations },
        displayUi: false,
      },
    )) as unknown as Record<string, Contract>;
    const at = async (name: string) => deployed[name]!.getAddress();
    const addresses: DeploymentRecord["addresses"] = {
      token: token ?? (await at("token")),
      registry: await at("registry"),
      pool: await at("pool"),
      payVerifier: await at("payVerifier"),
      transactVerifier: await at("transactVerifier"),
      lockVerifier: await at("lockVerifier"),
      closeVerifier: await at("closeVerifier"),
      poseidon: {
        PoseidonT3: await at("PoseidonT3"),
        PoseidonT4: await at("PoseidonT4"),
        PoseidonT5: await at("PoseidonT5"),
        PoseidonT6: await at("PoseidonT6"),
      },
    };
    const recordPath = resolve(o.out, `${chainId}.json`);
    const previous = existsSync(recordPath)
      ? parseDeploymentRecord(readFileSync(recordPath, "utf8"), recordPath, chainId)
      : undefined;
    const fresh = (await provider.getCode(addresses.registry, blockBefore).catch(() => "0x")) === "0x";
    const record: DeploymentRecord = {
      version: DEPLOYMENT_RECORD_VERSION,
      chainId: chainId.toString(),
      network: o.network,
      // The first block that can hold the contracts' creation (and so any of their events).
      deploymentBlock:
        previous?.addresses.pool === addresses.pool
          ? previous.deploymentBlock
          : fresh
            ? blockBefore + 1
            : await creationBlock(provider, addresses.registry, blockBefore),
      insecureProvingKeys: manifest.insecure,
      verificationKeys: Object.fromEntries(Object.entries(manifest.circuits).map(([n, c]) => [n, c.sha256.vkey])),
      addresses,
      testToken: token === undefined,
      deployedAt: previous?.addresses.pool === addresses.pool ? previous.deployedAt : new Date().toISOString(),
    };
    writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    console.log(
      `zkcharge on chain ${chainId} (${kind}, ${o.network}): Pool ${addresses.pool}, Registry ${addresses.registry}`,
    );
    console.log(
      `  token ${addresses.token}${record.testToken ? " (TestToken)" : ""}, Poseidon ${poseidon === "canonical" ? "canonical" : "deployed"}`,
    );
    console.log(`  from block ${record.deploymentBlock}; record ${recordPath}; journal ${journal}`);
    if (manifest.insecure) console.log("  WARNING: verifiers of insecure development proving keys");
  } finally {
    await connection.close();
  }
}

/**
 * A dev node restarted from genesis forgets the contracts its Ignition journal lists: the journal is stale and
 * would make Ignition report addresses that hold nothing. Dev chains only.
 */
async function discardStaleDevJournal(journal: string, provider: JsonRpcProvider): Promise<void> {
  const addressesFile = join(journal, "deployed_addresses.json");
  if (!existsSync(addressesFile)) return;
  const addresses = Object.values(JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>);
  const codes = await Promise.all(addresses.map((a) => provider.getCode(a)));
  if (codes.some((c) => c === "0x")) {
    console.log(`dev chain was reset: discarding the stale Ignition journal ${journal}`);
    rmSync(journal, { recursive: true, force: true });
  }
}

/** The block in which `address` got its code (binary search over historical state; archive nodes). */
async function creationBlock(provider: JsonRpcProvider, address: string, hi: number): Promise<number> {
  let lo = 0;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await provider.getCode(address, mid)) === "0x") lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const program = new Command("deploy")
  .description("deploy zkcharge with Hardhat Ignition from ignition/parameters/<network>.json")
  .requiredOption("--network <name>", "a network of hardhat.config.ts")
  .option("--rpc <url>", "override the network's JSON-RPC URL")
  .option("--parameters <file>", "Ignition parameters (default ignition/parameters/<network>.json)")
  .option("--out <dir>", "directory of the deployment records", process.env.ZKCHARGE_DEPLOYMENTS ?? "deployments")
  .option("--deployment-id <id>", "Ignition journal id (default chain-<chainId>)")
  .option("--confirmations <n>", "confirmations per transaction (default 1 on dev chains, 5 elsewhere)")
  .addOption(new Option("--allow-insecure-keys", "deploy development proving keys to a chain not marked dev or test"))
  .showHelpAfterError();

program.parse();
main(program.opts<Options>()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(
      `deploy: ${error instanceof DeployError ? error.message : ((error as Error).stack ?? String(error))}`,
    );
    process.exit(error instanceof DeployError ? 2 : 1);
  },
);
