// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IRegistry} from "./IRegistry.sol";
import {IPayVerifier} from "./IPayVerifier.sol";
import {ITransactVerifier} from "./ITransactVerifier.sol";
import {ILockVerifier} from "./ILockVerifier.sol";
import {ICloseVerifier} from "./ICloseVerifier.sol";

/// @title IPool
/// @notice The shielded pool: drivers deposit ERC-20 tokens into notes, pay finished charging sessions to CPOs
/// with a `pay` proof, and join / split / transfer / withdraw notes with a `transact` proof. A driver can also
/// pre-authorise a session: `lock` moves up to a public cap from a note into an escrow for one (cpoId, sessionId),
/// `close` pays the metered bill (at most the cap) to the CPO and returns the rest as a note, and `refund` returns
/// the whole cap as a note after the claim deadline if nobody closed. CPOs withdraw what they were paid.
/// Invariant: token balance == value of unspent notes + caps of open escrows + unwithdrawn CPO balances.
/// @dev Every note enters the note tree (a LeanIMT, docs/protocol.md) through a `NoteAdded` event carrying its
/// index and encrypted opening, so a wallet rebuilds its state from events alone.
interface IPool {
    /// @notice A Groth16 proof as snarkjs exports it (`b` coordinates in [c1, c0] order).
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// @notice Data bound to a proof through `extDataHash` without entering the circuit.
    /// @param recipient Receiver of a withdrawal (transact with extAmount < 0); zero in pay, lock and close.
    /// @param relayer Receiver of the fee; must be non-zero when the fee is (close pays no fee).
    /// @param extAmount Tokens entering (> 0) or leaving (< 0) the pool; zero in pay, lock and close.
    /// @param encryptedOutput1 Encrypted opening of the first output note (pay, lock: the change note).
    /// @param encryptedOutput2 Encrypted opening of the second output note (lock: the refund opening, blinding and
    /// cap; unused in pay).
    struct ExtData {
        address recipient;
        address relayer;
        int256 extAmount;
        bytes encryptedOutput1;
        bytes encryptedOutput2;
    }

    /// @notice Public signals of the pay circuit, in circuit order.
    struct PayPublic {
        uint256 noteRoot;
        uint256 noteTreeSize;
        uint256 nullifier;
        uint256 changeCommitment;
        uint256 meterRoot;
        uint256 cpoId;
        uint256 tariffHash;
        uint256 sessionId;
        uint256 amount;
        uint256 fee;
        uint256 extDataHash;
    }

    /// @notice Public signals of the transact circuit, in circuit order.
    struct TransactPublic {
        uint256 noteRoot;
        uint256 noteTreeSize;
        uint256[2] inputNullifiers;
        uint256[2] outputCommitments;
        uint256 publicAmount;
        uint256 extDataHash;
    }

    /// @notice Public signals of the lock circuit, in circuit order.
    struct LockPublic {
        uint256 noteRoot;
        uint256 noteTreeSize;
        uint256 nullifier;
        uint256 changeCommitment;
        uint256 refundPrecommitment;
        uint256 cap;
        uint256 fee;
        uint256 cpoId;
        uint256 sessionId;
        uint256 settleDeadline;
        uint256 claimDeadline;
        uint256 extDataHash;
    }

    /// @notice The caller-supplied public signals of the close circuit, in circuit order. The circuit's first four
    /// signals (refundPrecommitment, cap, cpoId, sessionId) are taken from the escrow's storage.
    /// @param mode 0: the meter signed the session-end record; 1: the meter signed a live tail.
    struct ClosePublic {
        uint256 mode;
        uint256 meterRoot;
        uint256 tariffHash;
        uint256 amount;
        uint256 refundCommitment;
        uint256 extDataHash;
    }

    /// @notice Lifecycle of an escrow: None (never locked), Open, then exactly one of Closed or Refunded.
    enum EscrowStatus {
        None,
        Open,
        Closed,
        Refunded
    }

    /// @notice An escrow, stored under its id (the lock's nullifier) in three slots: the first packs every small
    /// field (cpoId, cap, deadlines, status), then sessionId, then refundPrecommitment.
    /// @param cpoId The CPO the session is with (a registered id, so < 2^64).
    /// @param cap The locked value, 1..2^64-1 token base units.
    /// @param settleDeadline Unix time after which the CPO may close with a live tail (< 2^40).
    /// @param claimDeadline Unix time after which the escrow can no longer close and anyone may refund it (< 2^40).
    /// @param status The escrow's status.
    /// @param sessionId The session.
    /// @param refundPrecommitment The owner's precommitment that receives what the escrow gives back.
    struct Escrow {
        uint64 cpoId;
        uint64 cap;
        uint40 settleDeadline;
        uint40 claimDeadline;
        EscrowStatus status;
        uint256 sessionId;
        uint256 refundPrecommitment;
    }

    /// @notice Emitted on a deposit.
    /// @param depositor The account the tokens came from.
    /// @param precommitment The note's precommitment `P`.
    /// @param value The deposited value (token base units).
    event Deposited(address indexed depositor, uint256 precommitment, uint256 value);

    /// @notice Emitted for every leaf of the note tree.
    /// @param index The leaf index.
    /// @param commitment The note commitment.
    /// @param encryptedOpening The encrypted note opening (opaque to the contract).
    event NoteAdded(uint256 indexed index, uint256 commitment, bytes encryptedOpening);

    /// @notice Emitted for every spent nullifier.
    /// @param nullifier The nullifier.
    event NullifierSpent(uint256 indexed nullifier);

    /// @notice Emitted when a session is paid.
    /// @param cpoId The paid CPO.
    /// @param sessionId The session.
    /// @param tariffHash The tariff the session was billed with.
    /// @param amount The amount credited to the CPO.
    /// @param fee The fee paid to the relayer.
    event SessionPaid(
        uint256 indexed cpoId,
        uint256 indexed sessionId,
        uint256 tariffHash,
        uint256 amount,
        uint256 fee
    );

    /// @notice Emitted when a CPO withdraws its balance.
    /// @param cpoId The CPO.
    /// @param payout The address the tokens were sent to.
    /// @param amount The amount sent.
    event CpoWithdrawal(uint256 indexed cpoId, address payout, uint256 amount);

    /// @notice Emitted when a note's value is locked into an escrow.
    /// @param escrowId The escrow id (the lock's nullifier).
    /// @param cpoId The CPO.
    /// @param sessionId The session.
    /// @param refundPrecommitment The owner's precommitment that receives what the escrow gives back.
    /// @param cap The locked value.
    /// @param settleDeadline After it, the CPO may close with a live tail.
    /// @param claimDeadline After it, the escrow can no longer close and anyone may refund it.
    /// @param encryptedRefund The encrypted refund opening (blinding and cap, `ext.encryptedOutput2`), so the
    /// owner's wallet finds its escrows from events alone.
    event EscrowLocked(
        uint256 indexed escrowId,
        uint256 indexed cpoId,
        uint256 sessionId,
        uint256 refundPrecommitment,
        uint256 cap,
        uint256 settleDeadline,
        uint256 claimDeadline,
        bytes encryptedRefund
    );

    /// @notice Emitted when an escrow is closed: `amount` goes to the CPO, `cap - amount` back to the owner as the
    /// note `H3(TAG_NOTE, refundPrecommitment, cap - amount)` (inserted, with an empty opening, iff non-zero).
    /// @param escrowId The escrow.
    /// @param cpoId The CPO credited.
    /// @param sessionId The session, now paid.
    /// @param amount The amount credited to the CPO (<= cap).
    /// @param mode 0: session-end record; 1: live tail.
    event EscrowClosed(uint256 indexed escrowId, uint256 indexed cpoId, uint256 sessionId, uint256 amount, uint8 mode);

    /// @notice Emitted when an escrow is refunded in full after its claim deadline.
    /// @param escrowId The escrow.
    /// @param commitment The refund note `H3(TAG_NOTE, refundPrecommitment, cap)` (inserted with an empty opening).
    event EscrowRefunded(uint256 indexed escrowId, uint256 commitment);

    /// @notice A constructor argument is the zero address.
    error Pool__ZeroAddress();
    /// @notice A value, amount, fee or |extAmount| is out of range (0 or above 2^64-1 where it applies).
    error Pool__AmountOutOfRange();
    /// @notice A field element (precommitment or public input) is not below the BN254 scalar field modulus.
    error Pool__NotInField();
    /// @notice The token moved a different amount than requested (fee-on-transfer or rebasing tokens).
    error Pool__TransferAmountMismatch();
    /// @notice The note tree holds 2^NOTE_TREE_DEPTH leaves.
    error Pool__TreeFull();
    /// @notice The note root was never produced with that tree size, or is too old.
    error Pool__UnknownRoot();
    /// @notice A nullifier was already spent.
    error Pool__NullifierSpent();
    /// @notice The two input nullifiers of a transact are equal.
    error Pool__DuplicateNullifier();
    /// @notice The session of that CPO is already paid.
    error Pool__SessionAlreadyPaid();
    /// @notice The session of that CPO already has an escrow (open, closed or refunded): a session gets at most one
    /// escrow, ever, so the escrow the CPO accepted before switching on is the only one that can settle it.
    /// @param cpoId The CPO.
    /// @param sessionId The session.
    /// @param escrowId The session's existing escrow.
    error Pool__SessionHasEscrow(uint256 cpoId, uint256 sessionId, uint256 escrowId);
    /// @notice The meter root is not valid for that CPO in its current generation.
    error Pool__InvalidMeterRoot();
    /// @notice The tariff is unknown or was published by another CPO.
    error Pool__InvalidTariff();
    /// @notice Pay, lock and close take no external amount and no recipient.
    error Pool__InvalidExtData();
    /// @notice A non-zero fee needs a relayer.
    error Pool__RelayerRequired();
    /// @notice A withdrawal needs a recipient.
    error Pool__RecipientRequired();
    /// @notice extDataHash differs from the hash of the external data.
    error Pool__ExtDataHashMismatch();
    /// @notice publicAmount differs from (extAmount - fee) mod r.
    error Pool__InvalidPublicAmount();
    /// @notice The verifier rejected the proof.
    error Pool__InvalidProof();
    /// @notice The caller is not the CPO's admin.
    error Pool__NotCpoAdmin();
    /// @notice The CPO balance is zero.
    error Pool__NothingToWithdraw();
    /// @notice The CPO is not registered.
    error Pool__UnknownCpo();
    /// @notice A deadline is not below 2^40.
    error Pool__DeadlineOutOfRange();
    /// @notice settleDeadline < block.timestamp + MIN_SETTLE_WINDOW.
    error Pool__SettleWindowTooShort();
    /// @notice claimDeadline < settleDeadline + MIN_CLAIM_WINDOW.
    error Pool__ClaimWindowTooShort();
    /// @notice The escrow does not exist or is already closed or refunded.
    error Pool__EscrowNotOpen();
    /// @notice The close mode is neither 0 (session-end record) nor 1 (live tail).
    error Pool__InvalidMode();
    /// @notice The escrow's claim deadline has passed: it can only be refunded.
    error Pool__ClaimDeadlinePassed();
    /// @notice A live-tail close before the escrow's settle deadline.
    error Pool__BeforeSettleDeadline();
    /// @notice A refund before (or at) the escrow's claim deadline.
    error Pool__BeforeClaimDeadline();
    /// @notice The close amount exceeds the escrow's cap.
    error Pool__AmountAboveCap();

    /// @notice Deposits `value` tokens from the caller into the note `C = H3(TAG_NOTE, precommitment, value)`,
    /// computed by the contract. The caller must have approved the pool for `value`.
    /// @param precommitment The precommitment `P = H3(TAG_PRECOMMIT, idc, blinding)` (< r).
    /// @param value The note value, 1..2^64-1 token base units.
    /// @param encryptedOpening The encrypted note opening, emitted in `NoteAdded`.
    function deposit(uint256 precommitment, uint256 value, bytes calldata encryptedOpening) external;

    /// @notice Pays a finished session from one note: credits `amount` to the CPO, sends `fee` to the relayer and
    /// inserts the change note. Anyone (typically a relayer) may submit.
    /// @param proof The pay proof.
    /// @param pub The pay public signals.
    /// @param ext The external data (extAmount 0, recipient 0, relayer, encryptedOutput1 = change note opening).
    function pay(Proof calldata proof, PayPublic calldata pub, ExtData calldata ext) external;

    /// @notice Spends two notes into two new ones, with tokens entering (extAmount > 0, pulled from the caller) or
    /// leaving (extAmount < 0, sent to `ext.recipient`) the pool, and `fee` to the relayer.
    /// @param proof The transact proof.
    /// @param pub The transact public signals; publicAmount must be (extAmount - fee) mod r.
    /// @param ext The external data.
    /// @param fee The relayer fee (< 2^64).
    function transact(Proof calldata proof, TransactPublic calldata pub, ExtData calldata ext, uint256 fee) external;

    /// @notice Locks `cap` from one note into an escrow for (cpoId, sessionId), sends `fee` to the relayer and
    /// inserts the change note. The escrow id is the nullifier. Anyone (typically a relayer) may submit.
    /// @dev Requires a known root, an unspent nullifier, an unpaid session without an escrow, a registered CPO,
    /// 1 <= cap < 2^64, fee < 2^64, deadlines < 2^40, settleDeadline >= now + MIN_SETTLE_WINDOW and
    /// claimDeadline >= settleDeadline + MIN_CLAIM_WINDOW. A session gets at most one escrow, ever (recorded in
    /// `sessionEscrow`): a second lock for the same (cpoId, sessionId) reverts `Pool__SessionHasEscrow`, whatever
    /// the first escrow's status, so a later tiny-cap escrow cannot settle a session the CPO switched on for. The
    /// lock proof shows knowledge of the session's nonces (`sessionId = H3(TAG_SESSION, stationNonce,
    /// driverNonce)`), so only the session's driver (or its station) can lock it: nobody else can squat it.
    /// @param proof The lock proof.
    /// @param pub The lock public signals.
    /// @param ext The external data (extAmount 0, recipient 0, relayer, encryptedOutput1 = change note opening,
    /// encryptedOutput2 = refund opening, emitted in `EscrowLocked`).
    function lock(Proof calldata proof, LockPublic calldata pub, ExtData calldata ext) external;

    /// @notice Closes an open escrow from the meter's signed readings: credits `amount` (<= cap) to the CPO, marks
    /// the session paid and inserts the refund note `pub.refundCommitment` if amount < cap.
    /// @dev Mode 0 (session-end record): anyone, while block.timestamp <= claimDeadline. Mode 1 (live tail): only
    /// the CPO admin, while settleDeadline < block.timestamp <= claimDeadline. The proof's first four public
    /// signals are the escrow's refundPrecommitment, cap, cpoId and sessionId.
    /// @param escrowId The escrow.
    /// @param proof The close proof.
    /// @param pub The caller-supplied close public signals.
    /// @param ext The external data (extAmount 0, recipient 0; bound by extDataHash; no fee is paid).
    function close(uint256 escrowId, Proof calldata proof, ClosePublic calldata pub, ExtData calldata ext) external;

    /// @notice Refunds an escrow nobody closed: after its claim deadline, inserts the note
    /// `H3(TAG_NOTE, refundPrecommitment, cap)` (empty opening: the owner knows it). Anyone may submit.
    /// @param escrowId The escrow.
    function refund(uint256 escrowId) external;

    /// @notice Sends a CPO's whole balance to its payout address. Only the CPO admin.
    /// @param cpoId The CPO.
    function withdraw(uint256 cpoId) external;

    /// @notice Whether `root` is a recent note root produced at tree size `size`.
    /// @param root The note root.
    /// @param size The tree size at that root.
    /// @return True iff recorded with that size and fewer than ROOT_HISTORY_LEAVES leaves were added since.
    function isKnownRoot(uint256 root, uint256 size) external view returns (bool);

    /// @notice Whether a nullifier is spent.
    /// @param nullifier The nullifier.
    /// @return True iff spent.
    function nullifierSpent(uint256 nullifier) external view returns (bool);

    /// @notice Whether a session of a CPO is paid.
    /// @param cpoId The CPO.
    /// @param sessionId The session.
    /// @return True iff paid.
    function sessionPaid(uint256 cpoId, uint256 sessionId) external view returns (bool);

    /// @notice The escrow of a session: a CPO checks that the escrow a driver names is this one before switching on.
    /// @param cpoId The CPO.
    /// @param sessionId The session.
    /// @return escrowId The session's only escrow (whatever its status), or 0 if none was ever locked (an escrow id
    /// is a Poseidon hash, never 0 in practice).
    function sessionEscrow(uint256 cpoId, uint256 sessionId) external view returns (uint256 escrowId);

    /// @notice A CPO's unwithdrawn balance.
    /// @param cpoId The CPO.
    /// @return The balance in token base units.
    function cpoBalance(uint256 cpoId) external view returns (uint256);

    /// @notice An escrow (all zero, status None, if it never existed).
    /// @param escrowId The escrow id (the lock's nullifier).
    /// @return The escrow.
    function escrow(uint256 escrowId) external view returns (Escrow memory);

    /// @notice Minimum time between a lock and its settle deadline (15 minutes).
    /// @return Seconds.
    function MIN_SETTLE_WINDOW() external view returns (uint256);

    /// @notice Minimum time between the settle deadline and the claim deadline (1 day).
    /// @return Seconds.
    function MIN_CLAIM_WINDOW() external view returns (uint256);

    /// @notice The current note root (0 while the tree is empty).
    /// @return The root.
    function noteRoot() external view returns (uint256);

    /// @notice The number of leaves in the note tree.
    /// @return The size.
    function noteTreeSize() external view returns (uint256);

    /// @notice `keccak256(abi.encode(chainid, pool, recipient, relayer, extAmount, encryptedOutput1,
    /// encryptedOutput2)) mod r`.
    /// @param ext The external data.
    /// @return The hash, a field element.
    function hashExtData(ExtData calldata ext) external view returns (uint256);

    /// @notice The pool's token.
    /// @return The token.
    function token() external view returns (IERC20);

    /// @notice The registry of CPOs, meters and tariffs.
    /// @return The registry.
    function registry() external view returns (IRegistry);

    /// @notice The pay verifier.
    /// @return The verifier.
    function payVerifier() external view returns (IPayVerifier);

    /// @notice The transact verifier.
    /// @return The verifier.
    function transactVerifier() external view returns (ITransactVerifier);

    /// @notice The lock verifier.
    /// @return The verifier.
    function lockVerifier() external view returns (ILockVerifier);

    /// @notice The close verifier.
    /// @return The verifier.
    function closeVerifier() external view returns (ICloseVerifier);
}
