/**
 * Minimal type declarations for the part of circomlibjs 0.1.x that zkcharge uses (circomlibjs ships no types): its
 * WebAssembly Poseidon, on a single-threaded ffjavascript bn128 engine. Only sdk/node/workerKernels.ts loads it.
 */
declare module "circomlibjs" {
  /** The exports of the engine's WebAssembly instance that a Poseidon hasher uses (pointers into `memory`). */
  export interface PoseidonWasmExports {
    /** Poseidon of `nInputs` field elements at `pIn` (Montgomery form) with initial state `pState`, to `pOut`. */
    poseidon(pState: number, pIn: number, nInputs: number, pOut: number, nOut: number): void;
    frm_toMontgomery(pIn: number, pOut: number): void;
    frm_fromMontgomery(pIn: number, pOut: number): void;
  }

  /** The engine's thread manager: its memory and a bump allocator. */
  export interface ThreadManager {
    memory: WebAssembly.Memory;
    instance: { exports: PoseidonWasmExports };
    alloc(length: number): number;
  }

  /** circomlib's Poseidon on bytes in Montgomery form; `F` is the engine's scalar field. */
  export interface WasmPoseidon {
    (inputs: unknown[]): Uint8Array;
    F: { tm: ThreadManager; toObject(x: Uint8Array): bigint };
  }

  export function buildPoseidon(): Promise<WasmPoseidon>;
}
