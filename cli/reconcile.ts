/**
 * The state file reconciled with the chain before a command acts. The state is saved only after a transaction's
 * receipt, so a command killed (or timed out) after sending leaves it behind the chain: a session paid on chain
 * but `unpaid` in the file, an escrow closed or refunded but `open`, an escrow locked but missing. Proving again
 * from such a state only fails on chain (`Pool__SessionAlreadyPaid`), so every command that reads the state first
 * asks the pool (`sessionPaid`, `escrow(id)`, `sessionEscrow`) and repairs what the chain contradicts, saying what.
 *
 * The driver's notes (and so its spent nullifiers) are never kept in the file: every command rebuilds the wallet
 * from the pool's events.
 */
import { EscrowStatus, Pool__factory, formatAmount, readEscrow } from "../sdk/index.ts";
import type { Deployed } from "./rpc.ts";
import type { CliState, EscrowRecord, SessionRecordEntry } from "./state.ts";

/** A repaired state and one line per repair (empty when the file agreed with the chain). */
export interface Reconciled {
  state: CliState;
  repairs: string[];
}

const POOL = Pool__factory.createInterface();

/** The escrow record of an escrow the chain holds but the file lost (the lock's receipt never reached the file). */
async function recoverEscrow(
  d: Deployed,
  id: string,
  entry: SessionRecordEntry,
  escrowId: bigint,
): Promise<EscrowRecord> {
  const onChain = await readEscrow(d.pool, escrowId);
  const [locked] = await d.pool.queryFilter(d.pool.filters.EscrowLocked(escrowId), 0);
  const lockTx = locked?.transactionHash ?? "unknown";
  // The relayer's fee is not in the event: it is in the lock's public inputs.
  const tx = locked ? await d.provider.getTransaction(lockTx) : null;
  const parsed = tx ? POOL.parseTransaction({ data: tx.data }) : null;
  const fee = parsed?.name === "lock" ? (parsed.args[1] as { fee: bigint }).fee : 0n;
  return {
    id,
    escrowId,
    sessionRef: entry.id,
    cap: onChain.cap,
    fee,
    settleDeadline: onChain.settleDeadline,
    claimDeadline: onChain.claimDeadline,
    lockTx,
    status: "open",
  };
}

/** `escrow`, updated to what the chain says happened to it (closed or refunded), or itself if still open. */
async function settleEscrow(d: Deployed, escrow: EscrowRecord, repairs: string[]): Promise<EscrowRecord> {
  const onChain = await readEscrow(d.pool, escrow.escrowId);
  if (onChain.status === EscrowStatus.Closed) {
    const [ev] = await d.pool.queryFilter(d.pool.filters.EscrowClosed(escrow.escrowId), 0);
    const charged = ev?.args.amount ?? 0n;
    const closeMode = ev && BigInt(ev.args.mode) === 1n ? "tail" : "final";
    repairs.push(
      `escrow ${escrow.id}: closed on chain (tx ${ev?.transactionHash}, charged ${formatAmount(charged)}), the state said open: marked closed`,
    );
    return { ...escrow, status: "closed", charged, closeMode, closeTx: ev?.transactionHash };
  }
  if (onChain.status === EscrowStatus.Refunded) {
    const [ev] = await d.pool.queryFilter(d.pool.filters.EscrowRefunded(escrow.escrowId), 0);
    repairs.push(
      `escrow ${escrow.id}: refunded on chain (tx ${ev?.transactionHash}), the state said open: marked refunded`,
    );
    return { ...escrow, status: "refunded", refundTx: ev?.transactionHash };
  }
  return escrow;
}

/** How session `sessionId` of `cpoId` was paid: by a pay (SessionPaid) or an escrow close (EscrowClosed). */
async function paidBy(
  d: Deployed,
  cpoId: bigint,
  sessionId: bigint,
): Promise<{ tx?: string; amount?: bigint; how: string }> {
  const [paid] = await d.pool.queryFilter(d.pool.filters.SessionPaid(cpoId, sessionId), 0);
  if (paid) return { tx: paid.transactionHash, amount: paid.args.amount, how: "paid" };
  const closes = await d.pool.queryFilter(d.pool.filters.EscrowClosed(undefined, cpoId), 0);
  const close = closes.find((ev) => ev.args.sessionId === sessionId);
  return { tx: close?.transactionHash, amount: close?.args.amount, how: "paid by an escrow close" };
}

/**
 * Compares `state` with the chain `d` and repairs what the chain contradicts: escrows locked but missing from the
 * file, open escrows closed or refunded on chain, sessions paid on chain (by a pay or a close) but not in the file.
 */
export async function reconcile(d: Deployed, state: CliState): Promise<Reconciled> {
  const repairs: string[] = [];
  const cpo = state.cpo;
  if (!cpo) return { state, repairs };
  let escrows = [...(state.escrows ?? [])];

  // Escrows the chain holds for started sessions the file knows no escrow of.
  for (const entry of state.sessions) {
    if (!entry.live || escrows.some((e) => e.sessionRef === entry.id)) continue;
    const escrowId = await d.pool.sessionEscrow(cpo.cpoId, entry.live.sessionId);
    if (escrowId === 0n) continue;
    const record = await recoverEscrow(d, `e${escrows.length + 1}`, entry, escrowId);
    repairs.push(
      `escrow ${record.id}: locked on chain for session ${entry.id} (tx ${record.lockTx}), missing from the state: added`,
    );
    escrows.push(record);
  }
  escrows = await Promise.all(escrows.map((e) => (e.status === "open" ? settleEscrow(d, e, repairs) : e)));

  const sessions = [];
  for (const entry of state.sessions) {
    const sessionId = entry.session?.sessionId ?? entry.live?.sessionId;
    if (entry.status === "paid" || sessionId === undefined || !(await d.pool.sessionPaid(cpo.cpoId, sessionId))) {
      sessions.push(entry);
      continue;
    }
    const { tx, amount, how } = await paidBy(d, cpo.cpoId, sessionId);
    repairs.push(`session ${entry.id}: ${how} on chain (tx ${tx}), the state said ${entry.status}: marked paid`);
    sessions.push({ ...entry, status: "paid" as const, payTx: tx, amount: amount ?? entry.amount });
  }
  if (repairs.length === 0) return { state, repairs };
  return { state: { ...state, sessions, ...(escrows.length > 0 ? { escrows } : {}) }, repairs };
}
