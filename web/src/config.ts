/**
 * Where the app finds its chain: `zkcharge.json` next to `index.html`, written by whoever serves the site
 * (`npm run web` writes one for its dev chain). Read at run time so one static build serves any deployment.
 *
 * ```json
 * { "rpc": "http://127.0.0.1:8545", "deployment": { ...deployments/<chainId>.json... },
 *   "circuits": "./circuits/", "devAccount": "0x...",
 *   "station": "http://127.0.0.1:8090", "relayer": "http://127.0.0.1:8080" }
 * ```
 */
import { parseDeploymentRecord, type DeploymentRecord } from "../../sdk/index.ts";

/** The site's run-time configuration. */
export interface SiteConfig {
  /** JSON-RPC URL of the chain, as the browser reaches it. */
  rpc: string;
  /** The deployment record (`npm run deploy` writes it as deployments/<chainId>.json). */
  deployment: DeploymentRecord;
  /** Base URL of the circuit artifacts (a copy of build/circuits/), relative to the page. */
  circuits: string;
  /** On dev chains only: the unlocked, funded account the wallet deposits from and submits with. */
  devAccount?: string;
  /** A station's driver API the Charge screen offers first (any other may be pasted). */
  station?: string;
  /** The relayer service escrow locks and withdrawals are submitted through. */
  relayer?: string;
}

/** A problem with the site's configuration, in plain words. */
export class ConfigError extends Error {}

/** Reads and checks `zkcharge.json`. */
export async function loadConfig(url = "./zkcharge.json"): Promise<SiteConfig> {
  let res: Response;
  try {
    res = await fetch(url, { cache: "no-store" });
  } catch {
    throw new ConfigError(`cannot reach ${url}: is the site's server running?`);
  }
  if (!res.ok) throw new ConfigError(`${url} answered HTTP ${res.status}: the site has no chain configured`);
  let json: Record<string, unknown>;
  try {
    json = (await res.json()) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${url} is not JSON`);
  }
  if (typeof json.rpc !== "string" || !/^https?:\/\//.test(json.rpc)) {
    throw new ConfigError(`${url}: "rpc" must be an http(s) URL`);
  }
  for (const k of ["station", "relayer"] as const)
    if (json[k] !== undefined && (typeof json[k] !== "string" || !/^https?:\/\//.test(json[k])))
      throw new ConfigError(`${url}: "${k}" must be an http(s) URL`);
  const deployment = parseDeploymentRecord(JSON.stringify(json.deployment), `${url} "deployment"`);
  return {
    rpc: json.rpc,
    deployment,
    circuits: typeof json.circuits === "string" ? json.circuits : "./circuits/",
    devAccount: typeof json.devAccount === "string" ? json.devAccount : undefined,
    station: json.station as string | undefined,
    relayer: json.relayer as string | undefined,
  };
}
