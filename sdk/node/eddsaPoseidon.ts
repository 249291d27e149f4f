/** Node-only adapter: `@zk-kit/eddsa-poseidon`'s CommonJS build (see sdk/meter/eddsa.ts for why). */
import { createRequire } from "node:module";
import type * as EddsaPoseidon from "@zk-kit/eddsa-poseidon";

const eddsa = createRequire(import.meta.url)("@zk-kit/eddsa-poseidon") as typeof EddsaPoseidon;
export const { derivePublicKey, signMessage, verifySignature } = eddsa;
