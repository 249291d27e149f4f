/**
 * Where each role's signer comes from (the seam is {@link roleSigner}, called by `Chain.signer` in rpc.ts):
 *
 * - a role with a keystore (`--keystore cpo=cpo.json`, or `ZKCHARGE_KEYSTORE_CPO=cpo.json`) signs with that ethers
 *   JSON keystore's account, unlocked by `ZKCHARGE_PASSPHRASE_CPO`, `ZKCHARGE_PASSPHRASE` or a prompt;
 * - otherwise, on a dev chain only (`--dev-chains` / `ZKCHARGE_DEV_CHAINS`, default 31337, 1337), the node's unlocked
 *   account of the role's index (0 deployer, 1 CPO, 2 payer, 3 relayer), as before;
 * - otherwise the command fails, naming the role and how to give it a keystore.
 */
import type { JsonRpcProvider, Signer } from "ethers";
import { DEV_CHAIN_IDS, loadAccount, passphraseVariables, readPassphrase } from "../sdk/index.ts";
import { CliError } from "./errors.ts";

/** The CLI's roles, in the order of the dev node's unlocked accounts (role i is account i). */
export const ROLES = ["deployer", "cpo", "payer", "relayer"] as const;
export type Role = (typeof ROLES)[number];
/** A role by its account index. */
export type RoleIndex = 0 | 1 | 2 | 3;

/** How people name the roles. */
export const ROLE_LABELS: Record<Role, string> = {
  deployer: "deployer",
  cpo: "CPO admin",
  payer: "payer",
  relayer: "relayer",
};

/** Chain ids treated as dev chains when ZKCHARGE_DEV_CHAINS is not set: the SDK's (Hardhat's and anvil's 31337, 1337). */
export const DEFAULT_DEV_CHAINS: readonly bigint[] = [...DEV_CHAIN_IDS];

/** A signer that knows its address (a node account or a keystore's wallet). */
export type RoleSigner = Signer & { readonly address: string };

/** Where the roles' signers come from. */
export interface SignerConfig {
  /** Keystore path per role (from --keystore or ZKCHARGE_KEYSTORE_<ROLE>). */
  keystores: Partial<Record<Role, string>>;
  /** Chain ids on which a role without a keystore may use the node's unlocked account. */
  devChains: readonly bigint[];
}

/** The environment variable naming `role`'s keystore: `ZKCHARGE_KEYSTORE_CPO`. */
export function keystoreVariable(role: Role): string {
  return `ZKCHARGE_KEYSTORE_${role.toUpperCase()}`;
}

/** `--keystore <role=path>`'s value, e.g. `cpo=keys/cpo.json`. */
export function parseKeystoreOption(text: string): { role: Role; path: string } {
  const m = /^([a-z]+)=(.+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not <role>=<path> (roles: ${ROLES.join(", ")}), e.g. cpo=cpo.json`);
  if (!(ROLES as readonly string[]).includes(m[1]!))
    throw new Error(`unknown role "${m[1]}" (roles: ${ROLES.join(", ")})`);
  return { role: m[1] as Role, path: m[2]! };
}

/** `--dev-chains`' value: comma-separated chain ids (may be empty: no dev chain). */
export function parseDevChains(text: string): bigint[] {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const p of parts) if (!/^\d+$/.test(p)) throw new Error(`"${p}" is not a chain id (a whole number)`);
  return parts.map(BigInt);
}

/** The signer configuration from the parsed --keystore options and the environment (an option wins over a variable). */
export function signerConfig(
  options: readonly { role: Role; path: string }[],
  devChains: readonly bigint[],
  env: NodeJS.ProcessEnv = process.env,
): SignerConfig {
  const keystores: Partial<Record<Role, string>> = {};
  for (const role of ROLES) {
    const fromEnv = env[keystoreVariable(role)];
    if (fromEnv) keystores[role] = fromEnv;
  }
  for (const { role, path } of options) keystores[role] = path;
  return { keystores, devChains };
}

/** Whether `chainId` is a dev chain in `config`. */
export function isDevChain(config: SignerConfig, chainId: bigint): boolean {
  return config.devChains.includes(chainId);
}

/**
 * `role`'s signer on the chain `chainId` behind `provider`: its keystore's account when one is configured, else the
 * node's unlocked account (`unlocked()`) on a dev chain only.
 * @throws CliError naming the role and how to configure it (a non-dev chain without a keystore), or the SDK's key
 *   errors (wrong passphrase, malformed keystore, no passphrase)
 */
export async function roleSigner(
  config: SignerConfig,
  role: Role,
  chainId: bigint,
  provider: JsonRpcProvider,
  unlocked: () => Promise<RoleSigner>,
): Promise<RoleSigner> {
  const path = config.keystores[role];
  const label = ROLE_LABELS[role];
  if (path !== undefined) {
    const passphrase = await readPassphrase({
      what: `the ${label} keystore ${path}`,
      variables: passphraseVariables(role),
    });
    return (await loadAccount(path, passphrase)).connect(provider);
  }
  if (isDevChain(config, chainId)) return unlocked();
  throw new CliError(
    `the ${label} has no keystore, and chain ${chainId} is not a dev chain (dev chains: ` +
      `${config.devChains.join(", ") || "none"}; --dev-chains / ZKCHARGE_DEV_CHAINS), so the node's unlocked accounts ` +
      `are not used: pass --keystore ${role}=<path> or set ${keystoreVariable(role)}=<path> ` +
      `(make one with \`zkcharge key new --out ${role}.json\` or \`zkcharge key import --out ${role}.json\`)`,
  );
}
