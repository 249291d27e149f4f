/** Browser and bundler build of `#eddsa-poseidon`: the package's ESM build (see sdk/meter/eddsa.ts). */
export { derivePublicKey, signMessage, verifySignature } from "@zk-kit/eddsa-poseidon";
