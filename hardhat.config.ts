import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

// Offline: compile with the solc-js build shipped in the `solc` npm package
// instead of letting Hardhat download a compiler.
const require = createRequire(import.meta.url);
const soljson = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: "0.8.28",
    path: soljson,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
    },
    npmFilesToBuild: [
      "poseidon-solidity/PoseidonT3.sol",
      "poseidon-solidity/PoseidonT4.sol",
      "poseidon-solidity/PoseidonT5.sol",
      "poseidon-solidity/PoseidonT6.sol",
      // Typed handle (typechain) for a token given by address in sdk/deploy.ts.
      "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol",
    ],
  },
  paths: {
    tests: { mocha: "test" },
    // Ignition's journals (ignition/deployments/<id>/); tests point it at a temporary directory.
    ignition: process.env.ZKCHARGE_IGNITION_DIR ?? "ignition",
  },
  test: {
    // Test files run in 2 mocha worker processes (ZKCHARGE_TEST_JOBS=1: one process, serially): proofs spend much
    // of their time in single-threaded witness calculation and chain calls, so 2 files at once use both cores.
    mocha: {
      timeout: 600_000,
      parallel: (process.env.ZKCHARGE_TEST_JOBS ?? "2") !== "1",
      jobs: Number(process.env.ZKCHARGE_TEST_JOBS ?? 2),
      // Each file's wall time, summed up by scripts/test-tier.ts after the run.
      require: [new URL("./test/fixtures/fileTimes.ts", import.meta.url).href],
    },
  },
  // Networks by name for `npm run deploy -- --network <name>` (scripts/deploy.ts). URLs come from the environment
  // (or Hardhat's encrypted keystore: `npx hardhat keystore set SEPOLIA_RPC_URL`), never from this file; the
  // deployer's key from an encrypted JSON keystore (ZKCHARGE_DEPLOYER_KEYSTORE). Dev nodes use their unlocked accounts.
  networks: {
    localhost: { type: "http", url: process.env.ZKCHARGE_RPC ?? "http://127.0.0.1:8545" },
    anvil: { type: "http", url: process.env.ZKCHARGE_ANVIL_RPC ?? "http://127.0.0.1:8546" },
    sepolia: { type: "http", url: configVariable("SEPOLIA_RPC_URL") },
    baseSepolia: { type: "http", url: configVariable("BASE_SEPOLIA_RPC_URL") },
    base: { type: "http", url: configVariable("BASE_RPC_URL") },
  },
});
