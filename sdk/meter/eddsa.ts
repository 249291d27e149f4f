/**
 * EdDSA-Poseidon on Baby Jubjub (`@zk-kit/eddsa-poseidon`), in one place. The package's ESM build imports
 * `blakejs`, a CommonJS module whose named exports Node's ESM loader cannot see, so under Node the package
 * resolves `#eddsa-poseidon` to an adapter that loads the CommonJS build (package.json "imports"); bundlers
 * and browsers take the ESM build directly.
 */
export { derivePublicKey, signMessage, verifySignature } from "#eddsa-poseidon";
