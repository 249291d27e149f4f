/**
 * zkcharge SDK: the one entry point for applications (the CLI, a station service, a relayer, a web wallet).
 *
 * - Drivers use {@link Driver} (wallet on a pool) with a {@link DriverIdentity}; charge point operators use
 *   {@link Operator} and {@link Meter}.
 * - Proofs in one call: {@link provePay} / {@link verifyPay}, and the same for lock, close and transact.
 * - Keys at rest: {@link loadAccount} / {@link saveAccount} (ethers JSON keystores), {@link loadWallet} /
 *   {@link saveWallet} (the driver's encrypted wallet), {@link readPassphrase} (environment variable or terminal).
 * - Everything else is what those take and return: tariffs and bills, signed meter records, notes, money, errors.
 *
 * Layers and what may import what: docs/architecture.md.
 */

// Identity, notes, money, hashes (sdk/core)
export { DriverIdentity, type EncryptionKeyPair } from "./core/identity.ts";
export { Note } from "./core/note.ts";
export { formatAmount, parseAmount, CURRENCY } from "./core/money.ts";
export {
  extDataHash,
  ocmfDigest,
  sessionId,
  meterLeaf,
  tariffHash,
  type ExtData,
  type PoolExtData,
} from "./core/hash.ts";
export { randomBits, randomFieldElement } from "./core/field.ts";
export { MeterTree, NoteTree, type MerklePath } from "./core/tree.ts";
export { BILL_DIVISOR, BITS, FIELD_MODULUS, N_POINTS, TOKEN_DECIMALS } from "./core/constants.ts";
export * from "./core/errors.ts";

// Keys at rest (sdk/keys; docs/keys.md): the driver's wallet file (scrypt + XChaCha20-Poly1305), account keystores
// (ethers JSON keystore), passphrases from the environment or a terminal, key files written atomically (Node)
export {
  KeyFileAccessError,
  KeyFileFormatError,
  KeyFileIntegrityError,
  PassphraseUnavailableError,
  WrongPassphraseError,
} from "./keys/errors.ts";
export { SCRYPT_DEFAULT, SCRYPT_TEST_ONLY, type ScryptCost } from "./keys/scrypt.ts";
export {
  WALLET_VERSION,
  decryptWallet,
  UnlockedWallet,
  encryptWallet,
  type DecryptOptions,
  type EncryptWalletOptions,
  type JsonValue,
  type WalletContents,
} from "./keys/wallet.ts";
export { decryptAccount, encryptAccount, keystoreAddress, type EncryptAccountOptions } from "./keys/account.ts";
export { PASSPHRASE_VARIABLE, passphraseVariables, readPassphrase, type PassphraseRequest } from "./keys/passphrase.ts";
export {
  loadAccount,
  loadWallet,
  readKeyFile,
  saveAccount,
  saveWallet,
  writeFileAtomic,
  writeKeyFile,
  type AtomicWriteHooks,
  type WriteKeyFileOptions,
} from "./keys/files.ts";

// Tariffs and bills (sdk/tariff)
export {
  bandOf,
  clock,
  computeBill,
  durationLimitText,
  everyBand,
  EXACT_STEPS,
  nextBoundaryAfter,
  stepRoundUp,
  stepSizesText,
  TARIFF_START_MARGIN,
  tariffWindow,
  timeOfDay,
  validateTariff,
  type BandTuple,
  type Bill,
  type DurationLimit,
  type IntervalCharge,
  type Point,
  type StepSizes,
  type Tariff,
} from "./tariff/tariff.ts";
export {
  applyVat,
  exportOcpiCdr,
  importOcpiTariff,
  ocpiTariffSchema,
  parseOcpiTariff,
  UnsupportedTariffError,
  type ImportedOcpiTariff,
  type ImportOcpiOptions,
  type OcpiCdrDimension,
  type OcpiCdrPart,
  type OcpiChargingPeriod,
  type OcpiPriceComponent,
  type OcpiSessionInfo,
  type OcpiTariff,
  type OcpiTariffRestrictions,
} from "./tariff/ocpi.ts";
export {
  parseSessionReadings,
  priceOcpiSession,
  type MeterReading,
  type OcpiPrice,
  type OcpiPriceOptions,
  type OcpiVolumeDimension,
  type PricedDimension,
  type PricedFlat,
  type PricedPeriod,
} from "./tariff/ocpiPrice.ts";
export {
  boundaryChainPoints,
  checkOcpiProvable,
  type OcpiProvability,
  type OcpiProvableOptions,
} from "./tariff/ocpiProvable.ts";
export type { Rational } from "./core/rational.ts";

// Meters and their signed records (sdk/meter)
export { Meter, MeterSession, type MeterOptions } from "./meter/meter.ts";
export {
  computeChain,
  verifyLiveEvidence,
  verifySignedSession,
  type ChainPointReading,
  type LiveEvidence,
  type LiveTail,
  type MeterSignature,
  type Reading,
  type SignedChain,
  type SignedSession,
} from "./meter/record.ts";
export { simulateCharging, type SimulateOptions } from "./meter/simulator.ts";
export {
  appendReadings,
  billSoFar,
  chainPointsOf,
  restoreLiveSession,
  startLiveSessionLog,
  type LiveSessionLog,
  type RestoredLiveSession,
} from "./meter/liveLog.ts";
// Live records on the wire (OCPP signedMeterValue, docs/ocpp.md) and their checks, for the station and the wallet
export {
  ENCODING_METHOD,
  SIGNING_METHOD,
  LiveSessionVerifier,
  decodeMeterPublicKey,
  decodeSignedMeterValue,
  encodeMeterPublicKey,
  encodeSignedMeterValue,
  endRecord,
  pointRecord,
  tailRecord,
  tariffFromJson,
  tariffToJson,
  type LiveRecord,
  type LiveRecordKind,
  type SignedMeterValue,
  type TariffJson,
  type VerifiedSessionTerms,
} from "./meter/liveRecord.ts";
// The signature checks of live records on worker threads (LiveSessionVerifier.acceptOffThread), started ahead
export { prepareSignatureWorkers } from "./meter/offThread.ts";
// OCMF records from calibrated meters (Eichrecht / MID): parsed, verified as transparency software does
export {
  OCMF_ALGORITHMS,
  OcmfEncodingError,
  decodePublicKey,
  ocmfKeygen,
  signEcdsa,
  verifyEcdsa,
  type OcmfAlgorithm,
} from "./meter/ocmfCrypto.ts";
export { JsonNumber, type ExactJson } from "./meter/exactJson.ts";
export {
  OCMF_END_CODES,
  parseOcmf,
  parseOcmfEnergy,
  parseOcmfTime,
  type OcmfEnergy,
  type OcmfPayload,
  type OcmfReading,
  type OcmfRecord,
  type OcmfSignature,
  type OcmfMeterState,
  type OcmfTime,
  type OcmfTimeSync,
  type OcmfTransactionCode,
} from "./meter/ocmf.ts";
export { readOcmfInput, type OcmfInputFormat, type OcmfInputRecord } from "./meter/ocmfInput.ts";
export {
  ocmfKeyIds,
  verifyOcmf,
  type OcmfKeyRegistry,
  type OcmfProblem,
  type OcmfProblemCode,
  type OcmfRecordResult,
  type OcmfReport,
  type OcmfTransaction,
  type OcmfVerdict,
  type OcmfVerifyOptions,
} from "./meter/ocmfVerify.ts";
export {
  OcmfRefusedError,
  signOcmfSession,
  type GatewayInput,
  type GatewayPointSource,
  type GatewaySession,
} from "./meter/gateway.ts";

// Typed proofs (sdk/proofs)
export { provePay, verifyPay, type PayProof, type PayRequest } from "./proofs/pay.ts";
export { proveLock, verifyLock, type LockProof, type LockRequest } from "./proofs/lock.ts";
export { proveClose, verifyClose, type CloseProof, type CloseRequest } from "./proofs/close.ts";
export { proveTransact, verifyTransact, type TransactProof, type TransactRequest } from "./proofs/transact.ts";
export {
  PublicSignalMismatchError,
  type CircuitName,
  type ProofTimings,
  type ProofWithSignals,
  type ProvedCircuit,
} from "./proofs/prove.ts";
export type {
  ClosePublicSignals,
  LockPublicSignals,
  PayPublicSignals,
  TransactPublicSignals,
} from "./proofs/publicSignals.ts";
export type { EscrowTerms } from "./proofs/closeInput.ts";
export type { SessionNonces } from "./proofs/lockInput.ts";
export type { TransactOutput } from "./proofs/transactInput.ts";
// The proof engine's portable pieces: where artifacts come from (each file pinned by the manifest's sha256) and
// which worker backend proves (Node worker threads by default; a Web Worker in a browser).
export {
  StaleArtifactsError,
  WebWorkerBackend,
  formatCalldata,
  memorySource,
  shutdownProver,
  urlSource,
  type ArtifactSource,
  type Groth16Proof,
  type Manifest,
  type ProverBackend,
  type ProverOptions,
  type SolidityCalldata,
  type UrlSourceOptions,
  type WebWorkerBackendOptions,
} from "../prover/index.ts";

// Contracts (typed ethers handles generated from the ABIs) and the actors on a deployed pool (sdk/actors)
export { Pool__factory, Registry__factory, type Pool, type Registry } from "../types/ethers-contracts/index.js";
export {
  Driver,
  handover,
  submitLock,
  submitTransaction,
  transactRelayRequest,
  type PaymentHandover,
  type Locking,
  type OwnedEscrow,
  type OwnedNote,
  type Payment,
  type Transaction,
} from "./actors/driver.ts";
export { Operator, EscrowRejectedError, PaymentRejectedError, type SessionReceipt } from "./actors/operator.ts";
export {
  ContractRevertError,
  decodeRevert,
  revertData,
  sendAndWait,
  withRevertReason,
  type DecodedRevert,
} from "./actors/revert.ts";
export {
  DEADLINE_GRID_SECONDS,
  LINKABILITY_WINDOW_SECONDS,
  STANDARD_CAPS,
  assessEscrowTerms,
  assessSpend,
  privacyReport,
  isStandardCap,
  roundDeadline,
  standardCap,
  type NoteOrigin,
  type NoteProvenance,
  type PrivacyReport,
  type PrivacyWarning,
} from "./actors/privacy.ts";
export {
  DEPLOYMENT_RECORD_VERSION,
  DEV_CHAIN_IDS,
  TEST_CHAIN_IDS,
  DeploymentRecordError,
  chainKind,
  parseDeploymentRecord,
  type ChainKind,
  type DeploymentRecord,
} from "./actors/deployment.ts";
export { EscrowStatus, prepareClose, readEscrow, submitClose, type Closing, type Escrow } from "./actors/escrow.ts";
export {
  fromTariffStruct,
  readCpoWithdrawals,
  readEscrowEvents,
  readNoteProvenance,
  readMeterTree,
  readPayments,
  readPoolState,
  readRegistry,
  readTariffs,
  toTariffStruct,
  type CpoWithdrawal,
  type LockedEscrow,
  type NoteLeaf,
  type PoolState,
  type PublicPayment,
  type ReadOptions,
  type RegisteredCpo,
  type RegisteredMeter,
} from "./actors/chain.ts";
export {
  DEFAULT_MAX_BLOCK_RANGE,
  LogReadError,
  readLogs,
  type LogQuery,
  type LogReaderOptions,
  type RawLog,
} from "./actors/logs.ts";
export {
  DEFAULT_REORG_DEPTH,
  MemorySyncStore,
  PoolSync,
  SyncError,
  type PoolSyncOptions,
  type SyncResult,
  type SyncSnapshot,
  type SyncStore,
} from "./actors/sync.ts";
export { NOTE_SCAN_FORMAT, type NoteScan, type NoteScanStore } from "./actors/noteScan.ts";

// Relayers (sdk/actors): the HTTP API both sides share (docs/relayer.md) and the wallet's client
export { RelayerClient, RelayerError, type RelayerClientOptions, type WaitOptions } from "./actors/relayerClient.ts";
export {
  QUOTE_TYPES,
  RELAY_OPERATIONS,
  describeZodError,
  quoteDomain,
  quoteMessage,
  quoteRequestSchema,
  quoteSigner,
  relayRequestSchema,
  toWire,
  type FeePolicy,
  type JobStatus,
  type Quote,
  type RelayAccepted,
  type RelayErrorBody,
  type RelayJob,
  type RelayOperation,
  type RelayRequest,
  type RelayerDetails,
  type SignedQuote,
} from "./actors/relayerApi.ts";
export {
  STATION_API_PREFIX,
  STATION_SESSION_STATES,
  closeAnswerSchema,
  closeRequestSchema,
  liveMessageSchema,
  offerSchema,
  readingsAnswerSchema,
  sessionStatusSchema,
  startAnswerSchema,
  startRequestSchema,
  stationErrorSchema,
  stationInfoSchema,
  stationReadingSchema,
  stopAnswerSchema,
  type LiveMessage,
  type Offer,
  type ReadingsAnswer,
  type SessionStatus,
  type StartAnswer,
  type StartRequest,
  type StationCloseAnswer,
  type StationCloseRequest,
  type StationErrorBody,
  type StationInfo,
  type StationReading,
  type StationSessionState,
} from "./actors/stationApi.ts";
export { describeZodIssue } from "./actors/wire.ts";
export { StationClient, StationError, type LiveStream, type StationClientOptions } from "./actors/stationClient.ts";
// A driver wallet's side of a live session: the offer checked on-chain, then every streamed reading verified
export {
  MeterNotInTreeError,
  OfferRefusedError,
  checkOffer,
  checkStation,
  escrowDeadlines,
  meterPath,
  MIN_SETTLE_WINDOW_SECONDS,
  type CheckedOffer,
  type OfferChain,
} from "./actors/offerCheck.ts";
export {
  LIVE_RECONNECTS,
  START_TIMEOUT_MS,
  followSession,
  followStation,
  type FollowOptions,
  type FollowOutcome,
  type StationFollowOptions,
  type StationFollowOutcome,
  type StopCause,
} from "./actors/liveFollow.ts";
// Session receipts on the wire: a finished session and its meter path, for a wallet to prove the payment
export { SESSION_RECEIPT_VERSION, parseSessionReceipt, sessionReceiptToJson } from "./actors/receipt.ts";
