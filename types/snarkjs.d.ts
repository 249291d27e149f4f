/**
 * Minimal type declarations for the parts of snarkjs 0.7.x that zkcharge uses (snarkjs ships no types).
 * Extend this file when a new entry point is needed; keep it to what the code actually calls.
 */
declare module "snarkjs" {
  /** A Groth16 proof as snarkjs produces it: decimal-string coordinates (projective, last one "1"). */
  export interface Groth16Proof {
    pi_a: [string, string, string];
    pi_b: [[string, string], [string, string], [string, string]];
    pi_c: [string, string, string];
    protocol: "groth16";
    curve: string;
  }

  /** A Groth16 verification key as `zkey export verificationkey` writes it. */
  export interface VerificationKey {
    protocol: string;
    curve: string;
    nPublic: number;
    vk_alpha_1: string[];
    vk_beta_2: string[][];
    vk_gamma_2: string[][];
    vk_delta_2: string[][];
    vk_alphabeta_12?: string[][][];
    IC: string[][];
  }

  /** A snarkjs/fastfile in-memory file, or a path. */
  export type FileLike = string | Uint8Array | { type: "mem"; data?: Uint8Array };

  /** Optional logger (console-compatible subset). */
  export interface Logger {
    debug(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  }

  export namespace groth16 {
    function fullProve(
      input: Record<string, unknown>,
      wasmFile: FileLike,
      zkeyFile: FileLike,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    function prove(
      zkeyFile: FileLike,
      witnessFile: FileLike,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    function verify(
      vkey: VerificationKey,
      publicSignals: ReadonlyArray<string | bigint>,
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>;
    function exportSolidityCallData(
      proof: Groth16Proof,
      publicSignals: ReadonlyArray<string | bigint>,
    ): Promise<string>;
  }

  export namespace wtns {
    function calculate(input: Record<string, unknown>, wasmFile: FileLike, wtnsFile: FileLike): Promise<void>;
  }

  export namespace zKey {
    function newZKey(r1csFile: FileLike, ptauFile: FileLike, zkeyFile: FileLike, logger?: Logger): Promise<Uint8Array>;
    function contribute(
      zkeyOld: FileLike,
      zkeyNew: FileLike,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    function beacon(
      zkeyOld: FileLike,
      zkeyNew: FileLike,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<Uint8Array>;
    function verifyFromR1cs(
      r1csFile: FileLike,
      ptauFile: FileLike,
      zkeyFile: FileLike,
      logger?: Logger,
    ): Promise<boolean>;
    function verifyFromInit(
      initFile: FileLike,
      ptauFile: FileLike,
      zkeyFile: FileLike,
      logger?: Logger,
    ): Promise<boolean>;
    function exportVerificationKey(zkeyFile: FileLike, logger?: Logger): Promise<VerificationKey>;
    /** `templates.groth16` is the text of `snarkjs/templates/verifier_groth16.sol.ejs`. */
    function exportSolidityVerifier(
      zkeyFile: FileLike,
      templates: { groth16?: string },
      logger?: Logger,
    ): Promise<string>;
  }

  export namespace powersOfTau {
    function newAccumulator(curve: unknown, power: number, ptauFile: FileLike, logger?: Logger): Promise<unknown>;
    function contribute(
      oldPtau: FileLike,
      newPtau: FileLike,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<unknown>;
    function beacon(
      oldPtau: FileLike,
      newPtau: FileLike,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    function preparePhase2(oldPtau: FileLike, newPtau: FileLike, logger?: Logger): Promise<void>;
  }

  export namespace curves {
    /** `name` is e.g. `"bn128"`; the multi-threaded curve is a process-wide singleton until `terminate()`. */
    function getCurveFromName(
      name: string,
      options?: { singleThread?: boolean },
    ): Promise<{ terminate(): Promise<void> }>;
  }
}

/** ffjavascript's process-wide BN254 curve singleton (holds worker threads until terminated). */
// eslint-disable-next-line no-var -- a global declared by ffjavascript must be a `var` to live on globalThis
declare var curve_bn128: { terminate(): Promise<void> } | null | undefined;
