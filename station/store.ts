/**
 * Where the station service keeps its state: the storage seam. The CSMS, the driver API and the settlement talk
 * only to {@link StationStore} (sqliteStore.ts is the embedded implementation). Invariants: a station nonce is
 * stored before it is offered and used by one session at most; a session (with its escrow, once checked) is stored
 * before the charger is asked to start it; a signed reading is stored (after its checks) before the
 * TransactionEvent carrying it is acknowledged; a reading is stored once per (transaction, seqNo); a close is
 * stored as `submitting` before its transaction is sent, and as `confirmed` once it is mined.
 */

/** A session as stored. */
export interface StoredSession {
  sessionId: string;
  chargerId: string;
  remoteStartId: number;
  /** The tariff fixed at plug-in, as `tariffToJson` writes it. */
  tariff: unknown;
  /** Set once the charger's Started event arrived. */
  transactionId?: string;
  state: "requested" | "open" | "ended" | "rejected";
  requestedAt: number;
  /** The escrow the station checked on-chain before starting (sessions a driver started through the API). */
  escrow?: SessionEscrow;
  /** Why the station stopped the session by itself (`cap`), if it did. */
  stoppedBy?: string;
}

/** A session's escrow as the station checked it, and the driver's bearer token (its SHA-256 only). */
export interface SessionEscrow {
  escrowId: string;
  cap: string;
  settleDeadline: string;
  claimDeadline: string;
  refundPrecommitment: string;
  stationNonce: string;
  driverNonce: string;
  /** Hex SHA-256 of the session's bearer token. */
  tokenHash: string;
}

/** A one-time station nonce offered for a charger. */
export interface StoredOffer {
  stationNonce: string;
  chargerId: string;
  /** Unix ms. */
  expiresAt: number;
  /** The session that used it. */
  usedBy?: string;
}

/** A close of a session's escrow: who proved it, and how far its transaction got. */
export interface StoredClose {
  sessionId: string;
  escrowId: string;
  by: "driver" | "station";
  /** 0: from the session end; 1: from the last live tail (after the settle deadline). */
  mode: 0 | 1;
  state: "submitting" | "confirmed" | "failed";
  txHash?: string;
  amount?: string;
  refund?: string;
  error?: string;
  at: number;
}

/** A signed reading as stored: the OCPP fields as received, and what the checks read from them. */
export interface StoredReading {
  transactionId: string;
  seqNo: number;
  eventType: string;
  kind: string;
  k: number;
  t: string;
  e: string;
  signedMeterData: string;
  publicKey: string;
  receivedAt: number;
}

/** A reading refused, and why. */
export interface Refusal {
  chargerId: string;
  transactionId?: string;
  seqNo?: number;
  reason: string;
  at: number;
}

/** The station's OCPP storage. */
export interface StationStore {
  /** Stores a session about to be requested from a charger (with its escrow, if any). */
  addSession(session: Omit<StoredSession, "state" | "transactionId" | "stoppedBy">): Promise<void>;
  /** The session, by its id. */
  session(sessionId: string): Promise<StoredSession | undefined>;
  /** The session of a transaction. */
  sessionOfTransaction(transactionId: string): Promise<StoredSession | undefined>;
  /** Sessions requested or open (what a restart resumes). */
  openSessions(): Promise<StoredSession[]>;
  /** The `limit` most recently requested sessions, newest first (the operator's dashboard). */
  recentSessions(limit: number): Promise<StoredSession[]>;
  /** The charger's Started event bound the session to its transaction. */
  bindTransaction(sessionId: string, transactionId: string): Promise<void>;
  /** The charger refused to start the session. */
  markRejected(sessionId: string): Promise<void>;
  /** Stores a checked reading; an `end` reading also ends its session (one transaction). */
  addReading(reading: StoredReading): Promise<void>;
  /** The reading of a transaction with this seqNo. */
  reading(transactionId: string, seqNo: number): Promise<StoredReading | undefined>;
  /** A transaction's readings in seqNo order. */
  readings(transactionId: string): Promise<StoredReading[]>;
  /** The highest seqNo stored for a transaction (what the next event must exceed), undefined before its first. */
  lastSeqNo(transactionId: string): Promise<number | undefined>;
  addRefusal(refusal: Refusal): Promise<void>;
  refusals(): Promise<Refusal[]>;
  /** The last status a charger reported (`Available`, `Occupied`...). */
  setStatus(chargerId: string, status: string, at: number): Promise<void>;
  /** The last status of each charger that reported one. */
  statuses(): Promise<Map<string, string>>;
  /** Stores a nonce about to be offered; forgets unused offers that expired before `offer`'s creation. */
  addOffer(offer: Omit<StoredOffer, "usedBy">, now: number): Promise<void>;
  offer(stationNonce: string): Promise<StoredOffer | undefined>;
  /**
   * Stores `session` (requested, with its escrow) and marks its station nonce used by it, in one transaction.
   * @returns false, storing nothing, if the nonce was used already (a concurrent start)
   */
  startWithOffer(session: Omit<StoredSession, "state" | "transactionId" | "stoppedBy">): Promise<boolean>;
  /** The station stopped the session by itself, for `reason`. */
  setStoppedBy(sessionId: string, reason: string): Promise<void>;
  /** Sessions with an escrow whose close is not confirmed (what the settlement watches, and a restart resumes). */
  unsettledSessions(): Promise<StoredSession[]>;
  /** Stores (inserts or replaces) the close of a session. */
  putClose(close: StoredClose): Promise<void>;
  /** The close of a session, if one was attempted. */
  closeOf(sessionId: string): Promise<StoredClose | undefined>;
  /** Closes the database. */
  close(): Promise<void>;
}
