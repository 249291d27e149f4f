/**
 * The web app's dev stack, shared by `npm run web` (scripts/web.ts), its browser tests (test/web/) and the
 * in-browser bench (bench/web.ts): a zkcharge deployment with a demo CPO (meter, tariff) on a dev chain, the static
 * site built by Vite, and a local server for it that also answers `zkcharge.json`, the site's run-time
 * configuration (web/src/config.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { network } from "hardhat";
import puppeteer, { type Browser } from "puppeteer-core";
import { build, preview, type Plugin } from "vite";
import { DEPLOYMENT_RECORD_VERSION, parseDeploymentRecord, type DeploymentRecord } from "../../sdk/index.ts";
import { setUpNetwork, type Network } from "../../dev/localNetwork.ts";
import { REPO_ROOT } from "../../prover/node/fileSource.ts";
import type { Manifest } from "../../prover/artifacts.ts";
import { LIVE_PAYER, type LiveNet } from "./liveNet.ts";

/** The Vite config of the web app. */
export const WEB_CONFIG = join(REPO_ROOT, "web", "vite.config.ts");
/** Where `npm run web:build` writes the static site. */
export const WEB_DIST = join(REPO_ROOT, "web", "dist");

/** What `zkcharge.json` holds (web/src/config.ts reads it). */
export interface SiteConfigJson {
  rpc: string;
  deployment: DeploymentRecord;
  circuits: string;
  devAccount?: string;
  /** A station's driver API the Charge screen offers first (the driver may paste another). */
  station?: string;
  /** The relayer service the wallet locks and withdraws through. */
  relayer?: string;
}

/** A demo deployment on a dev chain and the site configuration pointing at it. */
export interface DemoChain {
  net: Network;
  site: SiteConfigJson;
  /** The hardhat-ethers connection (close it when done). */
  close: () => Promise<void>;
}

/**
 * Deploys zkcharge to the dev node at `rpc`, registers a CPO with a 22 kW meter and publishes the demo tariff
 * (dev/localNetwork.ts `setUpNetwork`), and returns the site configuration for it (the funded `payer` dev account
 * as the wallet's dev account).
 */
export async function deployDemo(rpc: string): Promise<DemoChain> {
  const connection = await network.create({ network: "localhost", override: { url: rpc } });
  const net = await setUpNetwork(connection.ethers);
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "build", "circuits", "manifest.json"), "utf8")) as Manifest;
  const a = net.deployment.addresses;
  const deployment: DeploymentRecord = {
    version: DEPLOYMENT_RECORD_VERSION,
    chainId: a.chainId.toString(),
    network: "localhost",
    deploymentBlock: 0,
    insecureProvingKeys: manifest.insecure,
    verificationKeys: Object.fromEntries(Object.entries(manifest.circuits).map(([n, c]) => [n, c.sha256.vkey])),
    addresses: {
      token: a.token,
      registry: a.registry,
      pool: a.pool,
      payVerifier: a.payVerifier,
      transactVerifier: a.transactVerifier,
      lockVerifier: a.lockVerifier,
      closeVerifier: a.closeVerifier,
      poseidon: a.poseidon,
    },
    testToken: true,
    deployedAt: new Date().toISOString(),
  };
  return {
    net,
    site: { rpc, deployment, circuits: "./circuits/", devAccount: await net.signers.payer.getAddress() },
    close: () => connection.close(),
  };
}

/**
 * The site configuration for a live network of processes (scripts/lib/liveNet.ts): its deployment record, its
 * station and relayer, and the dev payer account (tokens minted to it) as the wallet's dev account.
 */
export function liveSiteConfig(net: LiveNet): SiteConfigJson {
  const deployment = parseDeploymentRecord(readFileSync(net.deployment, "utf8"), net.deployment);
  return {
    rpc: net.rpc,
    deployment,
    circuits: "./circuits/",
    devAccount: LIVE_PAYER,
    station: net.station,
    relayer: net.relayer,
  };
}

/** Builds the static site into web/dist (as `npm run web:build` does), quietly unless `log`. */
export async function buildSite(log = false): Promise<void> {
  await build({ configFile: WEB_CONFIG, logLevel: log ? "info" : "warn" });
}

/** Serves `zkcharge.json` from memory: the one file that differs per chain. */
function siteConfig(config: SiteConfigJson): Plugin {
  const body = JSON.stringify(config, null, 2);
  return {
    name: "zkcharge-site-config",
    configurePreviewServer(server) {
      server.middlewares.use("/zkcharge.json", (_req, res) => {
        res.setHeader("content-type", "application/json");
        res.setHeader("cache-control", "no-store");
        res.end(body);
      });
    },
  };
}

/** A running site server. */
export interface SiteServer {
  url: string;
  close: () => Promise<void>;
}

/** Serves web/dist (built first with {@link buildSite}) and `zkcharge.json` on `host:port`. */
export async function serveSite(config: SiteConfigJson, port: number, host = "127.0.0.1"): Promise<SiteServer> {
  const server = await preview({
    configFile: WEB_CONFIG,
    logLevel: "warn",
    plugins: [siteConfig(config)],
    preview: { host, port, strictPort: true, open: false },
  });
  return { url: `http://${host}:${port}/`, close: () => server.close() };
}

/** The Chromium the browser tests and the bench drive: Debian's package (never a downloaded browser). */
export const CHROMIUM = process.env.ZKCHARGE_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Starts headless Chromium (no sandbox: CI runs as root, where Chromium's sandbox cannot start). With `camera`, a
 * Y4M file, the page's camera plays that video and camera permission is granted without a prompt.
 */
export async function launchChromium(o: { camera?: string } = {}): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-dev-shm-usage",
      ...(o.camera
        ? [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            `--use-file-for-fake-video-capture=${o.camera}`,
          ]
        : []),
    ],
  });
}
