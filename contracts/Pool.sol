// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {PoseidonT4} from "poseidon-solidity/PoseidonT4.sol";
import {IPool} from "./interfaces/IPool.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";
import {IPayVerifier} from "./interfaces/IPayVerifier.sol";
import {ITransactVerifier} from "./interfaces/ITransactVerifier.sol";
import {ILockVerifier} from "./interfaces/ILockVerifier.sol";
import {ICloseVerifier} from "./interfaces/ICloseVerifier.sol";
import {Constants} from "./libraries/Constants.sol";
import {NoteTree} from "./libraries/NoteTree.sol";
import {ProofLib} from "./libraries/ProofLib.sol";

/// @title Pool
/// @notice The zkcharge shielded pool (see IPool).
/// @dev Linked libraries: PoseidonT3 (NoteTree), PoseidonT4 (deposit and refund commitments).
/// Every external entry point runs checks, then state changes, then token transfers, under a
/// reentrancy guard. The internal helpers (`_checkRoot`, `_spend`, `_markSessionPaid`, `_insertNote`,
/// `_recordRoot`, `_pull`, `_send`) are shared by every entry point, escrows included.
/// Storage (slots in declaration order, ReentrancyGuard's status sits in its own namespaced slot): nullifierSpent 0,
/// sessionPaid 1, cpoBalance 2, _tree 3..28 (size, sideNodes[25]), _rootHistory 29..284, _escrows 285 (each escrow
/// takes 3 consecutive slots at keccak256(escrowId . 285): packed {cpoId, cap, settleDeadline, claimDeadline,
/// status}, sessionId, refundPrecommitment), sessionEscrow 286.
contract Pool is IPool, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using NoteTree for NoteTree.Data;
    using ProofLib for PayPublic;
    using ProofLib for TransactPublic;
    using ProofLib for LockPublic;
    using ProofLib for ClosePublic;
    using ProofLib for uint256[12];
    using ProofLib for uint256[10];
    using ProofLib for uint256[11];
    using ProofLib for uint256[8];

    /// @inheritdoc IPool
    IERC20 public immutable token;
    /// @inheritdoc IPool
    IRegistry public immutable registry;
    /// @inheritdoc IPool
    IPayVerifier public immutable payVerifier;
    /// @inheritdoc IPool
    ITransactVerifier public immutable transactVerifier;
    /// @inheritdoc IPool
    ILockVerifier public immutable lockVerifier;
    /// @inheritdoc IPool
    ICloseVerifier public immutable closeVerifier;

    /// @inheritdoc IPool
    uint256 public constant MIN_SETTLE_WINDOW = 15 minutes;
    /// @inheritdoc IPool
    uint256 public constant MIN_CLAIM_WINDOW = 1 days;

    /// @inheritdoc IPool
    mapping(uint256 nullifier => bool) public nullifierSpent;
    /// @inheritdoc IPool
    mapping(uint256 cpoId => mapping(uint256 sessionId => bool)) public sessionPaid;
    /// @inheritdoc IPool
    mapping(uint256 cpoId => uint256) public cpoBalance;

    NoteTree.Data internal _tree;
    /// @dev Root history as a ring keyed by tree size: slot `size % ROOT_HISTORY_LEAVES` holds
    /// `keccak256(root, size)` for the root recorded at that size (only the root after each transaction). Sizes
    /// strictly increase, so the 256 sizes of the acceptance window have distinct slots, and a stale slot (older
    /// size, or a size that was never recorded) cannot match because the size is hashed in. Same predicate as a
    /// root => size map, but after the first 256 leaves each record rewrites a non-zero slot (5k instead of 22.1k).
    bytes32[256] internal _rootHistory; // length = Constants.ROOT_HISTORY_LEAVES
    /// @dev Escrows by id (the lock's nullifier); see IPool.Escrow for the packing.
    mapping(uint256 escrowId => Escrow) internal _escrows;
    /// @inheritdoc IPool
    /// @dev Written once per session by `lock` and never cleared: one escrow per (cpoId, sessionId), ever.
    mapping(uint256 cpoId => mapping(uint256 sessionId => uint256 escrowId)) public sessionEscrow;

    constructor(
        IERC20 token_,
        IRegistry registry_,
        IPayVerifier payVerifier_,
        ITransactVerifier transactVerifier_,
        ILockVerifier lockVerifier_,
        ICloseVerifier closeVerifier_
    ) {
        if (
            address(token_) == address(0) ||
            address(registry_) == address(0) ||
            address(payVerifier_) == address(0) ||
            address(transactVerifier_) == address(0) ||
            address(lockVerifier_) == address(0) ||
            address(closeVerifier_) == address(0)
        ) revert Pool__ZeroAddress();
        token = token_;
        registry = registry_;
        payVerifier = payVerifier_;
        transactVerifier = transactVerifier_;
        lockVerifier = lockVerifier_;
        closeVerifier = closeVerifier_;
    }

    // ---------------------------------------------------------------- entry points

    /// @inheritdoc IPool
    function deposit(uint256 precommitment, uint256 value, bytes calldata encryptedOpening) external nonReentrant {
        if (value == 0 || value > Constants.MAX_VALUE) revert Pool__AmountOutOfRange();
        if (precommitment >= Constants.FIELD_MODULUS) revert Pool__NotInField();

        uint256 commitment = PoseidonT4.hash([Constants.TAG_NOTE, precommitment, value]);
        _recordRoot(_insertNote(commitment, encryptedOpening));
        emit Deposited(msg.sender, precommitment, value);

        _pull(msg.sender, value);
    }

    /// @inheritdoc IPool
    function pay(Proof calldata proof, PayPublic calldata pub, ExtData calldata ext) external nonReentrant {
        _checkRoot(pub.noteRoot, pub.noteTreeSize);
        if (nullifierSpent[pub.nullifier]) revert Pool__NullifierSpent();
        if (sessionPaid[pub.cpoId][pub.sessionId]) revert Pool__SessionAlreadyPaid();
        if (!registry.isValidMeterRoot(pub.cpoId, pub.meterRoot)) revert Pool__InvalidMeterRoot();
        if (registry.tariffCpo(pub.tariffHash) != pub.cpoId) revert Pool__InvalidTariff();
        if (ext.extAmount != 0 || ext.recipient != address(0)) revert Pool__InvalidExtData();
        if (pub.fee != 0 && ext.relayer == address(0)) revert Pool__RelayerRequired();
        if (pub.amount > Constants.MAX_VALUE || pub.fee > Constants.MAX_VALUE) revert Pool__AmountOutOfRange();
        if (pub.extDataHash != hashExtData(ext)) revert Pool__ExtDataHashMismatch();
        uint256[11] memory signals = pub.signals();
        if (!signals.inField()) revert Pool__NotInField();
        if (!payVerifier.verifyProof(proof.a, proof.b, proof.c, signals)) revert Pool__InvalidProof();

        _spend(pub.nullifier);
        _markSessionPaid(pub.cpoId, pub.sessionId);
        cpoBalance[pub.cpoId] += pub.amount;
        _recordRoot(_insertNote(pub.changeCommitment, ext.encryptedOutput1));
        emit SessionPaid(pub.cpoId, pub.sessionId, pub.tariffHash, pub.amount, pub.fee);

        _send(ext.relayer, pub.fee);
    }

    /// @inheritdoc IPool
    function transact(
        Proof calldata proof,
        TransactPublic calldata pub,
        ExtData calldata ext,
        uint256 fee
    ) external nonReentrant {
        int256 extAmount = ext.extAmount;
        // |extAmount| <= 2^64-1 (the lower bound excludes type(int256).min, whose negation overflows).
        if (
            extAmount > int256(Constants.MAX_VALUE) ||
            extAmount < -int256(Constants.MAX_VALUE) ||
            fee > Constants.MAX_VALUE
        ) revert Pool__AmountOutOfRange();
        if (pub.publicAmount != _publicAmount(extAmount, fee)) revert Pool__InvalidPublicAmount();
        if (extAmount < 0 && ext.recipient == address(0)) revert Pool__RecipientRequired();
        if (fee != 0 && ext.relayer == address(0)) revert Pool__RelayerRequired();
        uint256 nf0 = pub.inputNullifiers[0];
        uint256 nf1 = pub.inputNullifiers[1];
        if (nullifierSpent[nf0] || nullifierSpent[nf1]) revert Pool__NullifierSpent();
        if (nf0 == nf1) revert Pool__DuplicateNullifier();
        _checkRoot(pub.noteRoot, pub.noteTreeSize);
        if (pub.extDataHash != hashExtData(ext)) revert Pool__ExtDataHashMismatch();
        uint256[8] memory signals = pub.signals();
        if (!signals.inField()) revert Pool__NotInField();
        if (!transactVerifier.verifyProof(proof.a, proof.b, proof.c, signals)) revert Pool__InvalidProof();

        _spend(nf0);
        _spend(nf1);
        _insertNote(pub.outputCommitments[0], ext.encryptedOutput1);
        _recordRoot(_insertNote(pub.outputCommitments[1], ext.encryptedOutput2));

        if (extAmount > 0) {
            _pull(msg.sender, uint256(extAmount));
        } else if (extAmount < 0) {
            _send(ext.recipient, uint256(-extAmount));
        }
        _send(ext.relayer, fee);
    }

    /// @inheritdoc IPool
    function lock(Proof calldata proof, LockPublic calldata pub, ExtData calldata ext) external nonReentrant {
        _checkRoot(pub.noteRoot, pub.noteTreeSize);
        if (nullifierSpent[pub.nullifier]) revert Pool__NullifierSpent();
        if (sessionPaid[pub.cpoId][pub.sessionId]) revert Pool__SessionAlreadyPaid();
        // One escrow per session, ever: otherwise the driver could lock a second, tiny-cap escrow after the CPO
        // accepted the first and settle the session with it (mode 0 is open to anyone).
        uint256 existing = sessionEscrow[pub.cpoId][pub.sessionId];
        if (existing != 0) revert Pool__SessionHasEscrow(pub.cpoId, pub.sessionId, existing);
        _checkCpoRegistered(pub.cpoId);
        if (pub.cap == 0 || pub.cap > Constants.MAX_VALUE || pub.fee > Constants.MAX_VALUE) {
            revert Pool__AmountOutOfRange();
        }
        if (pub.fee != 0 && ext.relayer == address(0)) revert Pool__RelayerRequired();
        if (ext.extAmount != 0 || ext.recipient != address(0)) revert Pool__InvalidExtData();
        _checkDeadlines(pub.settleDeadline, pub.claimDeadline);
        if (pub.extDataHash != hashExtData(ext)) revert Pool__ExtDataHashMismatch();
        uint256[12] memory signals = pub.signals();
        if (!signals.inField()) revert Pool__NotInField();
        if (!lockVerifier.verifyProof(proof.a, proof.b, proof.c, signals)) revert Pool__InvalidProof();

        _spend(pub.nullifier);
        // Casts are exact: cpoId <= registry.cpoCount() < 2^64 (_checkCpoRegistered), cap < 2^64, deadlines < 2^40.
        _escrows[pub.nullifier] = Escrow({
            cpoId: uint64(pub.cpoId),
            cap: uint64(pub.cap),
            settleDeadline: uint40(pub.settleDeadline),
            claimDeadline: uint40(pub.claimDeadline),
            status: EscrowStatus.Open,
            sessionId: pub.sessionId,
            refundPrecommitment: pub.refundPrecommitment
        });
        sessionEscrow[pub.cpoId][pub.sessionId] = pub.nullifier;
        _recordRoot(_insertNote(pub.changeCommitment, ext.encryptedOutput1));
        emit EscrowLocked(
            pub.nullifier,
            pub.cpoId,
            pub.sessionId,
            pub.refundPrecommitment,
            pub.cap,
            pub.settleDeadline,
            pub.claimDeadline,
            ext.encryptedOutput2
        );

        _send(ext.relayer, pub.fee);
    }

    /// @inheritdoc IPool
    function close(
        uint256 escrowId,
        Proof calldata proof,
        ClosePublic calldata pub,
        ExtData calldata ext
    ) external nonReentrant {
        Escrow memory e = _escrows[escrowId];
        if (e.status != EscrowStatus.Open) revert Pool__EscrowNotOpen();
        if (sessionPaid[e.cpoId][e.sessionId]) revert Pool__SessionAlreadyPaid();
        if (pub.mode > 1) revert Pool__InvalidMode();
        if (block.timestamp > e.claimDeadline) revert Pool__ClaimDeadlinePassed();
        if (pub.mode == 1) {
            (address admin, ) = registry.cpo(e.cpoId);
            if (admin != msg.sender) revert Pool__NotCpoAdmin();
            if (block.timestamp <= e.settleDeadline) revert Pool__BeforeSettleDeadline();
        }
        if (!registry.isValidMeterRoot(e.cpoId, pub.meterRoot)) revert Pool__InvalidMeterRoot();
        if (registry.tariffCpo(pub.tariffHash) != e.cpoId) revert Pool__InvalidTariff();
        if (pub.amount > e.cap) revert Pool__AmountAboveCap();
        if (ext.extAmount != 0 || ext.recipient != address(0)) revert Pool__InvalidExtData();
        if (pub.extDataHash != hashExtData(ext)) revert Pool__ExtDataHashMismatch();
        uint256[10] memory signals = pub.signals(e);
        if (!signals.inField()) revert Pool__NotInField();
        if (!closeVerifier.verifyProof(proof.a, proof.b, proof.c, signals)) revert Pool__InvalidProof();

        _escrows[escrowId].status = EscrowStatus.Closed;
        _markSessionPaid(e.cpoId, e.sessionId);
        cpoBalance[e.cpoId] += pub.amount;
        if (pub.amount < e.cap) _recordRoot(_insertOwnNote(pub.refundCommitment));
        emit EscrowClosed(escrowId, e.cpoId, e.sessionId, pub.amount, uint8(pub.mode));
    }

    /// @inheritdoc IPool
    function refund(uint256 escrowId) external nonReentrant {
        Escrow storage e = _escrows[escrowId];
        if (e.status != EscrowStatus.Open) revert Pool__EscrowNotOpen();
        if (block.timestamp <= e.claimDeadline) revert Pool__BeforeClaimDeadline();

        e.status = EscrowStatus.Refunded;
        uint256 commitment = PoseidonT4.hash([Constants.TAG_NOTE, e.refundPrecommitment, uint256(e.cap)]);
        _recordRoot(_insertOwnNote(commitment));
        emit EscrowRefunded(escrowId, commitment);
    }

    /// @inheritdoc IPool
    function withdraw(uint256 cpoId) external nonReentrant {
        (address admin, address payout) = registry.cpo(cpoId);
        if (admin != msg.sender) revert Pool__NotCpoAdmin();
        uint256 amount = cpoBalance[cpoId];
        if (amount == 0) revert Pool__NothingToWithdraw();

        cpoBalance[cpoId] = 0;
        emit CpoWithdrawal(cpoId, payout, amount);

        token.safeTransfer(payout, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPool
    function escrow(uint256 escrowId) external view returns (Escrow memory) {
        return _escrows[escrowId];
    }

    /// @inheritdoc IPool
    function isKnownRoot(uint256 root, uint256 size) public view returns (bool) {
        uint256 current = _tree.size;
        if (size == 0 || size > current || current - size >= Constants.ROOT_HISTORY_LEAVES) return false;
        return _rootHistory[size % _rootHistory.length] == _rootKey(root, size);
    }

    /// @inheritdoc IPool
    function noteRoot() external view returns (uint256) {
        return _tree.root();
    }

    /// @inheritdoc IPool
    function noteTreeSize() external view returns (uint256) {
        return _tree.size;
    }

    /// @inheritdoc IPool
    function hashExtData(ExtData calldata ext) public view returns (uint256) {
        return
            uint256(
                keccak256(
                    abi.encode(
                        block.chainid,
                        address(this),
                        ext.recipient,
                        ext.relayer,
                        ext.extAmount,
                        ext.encryptedOutput1,
                        ext.encryptedOutput2
                    )
                )
            ) % Constants.FIELD_MODULUS;
    }

    // ---------------------------------------------------------------- internal building blocks

    /// @dev Reverts unless `root` is a known recent root produced at tree size `size`.
    function _checkRoot(uint256 root, uint256 size) internal view {
        if (!isKnownRoot(root, size)) revert Pool__UnknownRoot();
    }

    /// @dev Marks a nullifier spent (the caller checked it was not).
    function _spend(uint256 nullifier) internal {
        nullifierSpent[nullifier] = true;
        emit NullifierSpent(nullifier);
    }

    /// @dev Marks a session paid (the caller checked it was not).
    function _markSessionPaid(uint256 cpoId, uint256 sessionId) internal {
        sessionPaid[cpoId][sessionId] = true;
    }

    /// @dev Reverts unless `cpoId` is a registered CPO (registered ids are 1..cpoCount, so they fit 64 bits).
    function _checkCpoRegistered(uint256 cpoId) internal view {
        if (cpoId > type(uint64).max) revert Pool__UnknownCpo();
        (address admin, ) = registry.cpo(cpoId);
        if (admin == address(0)) revert Pool__UnknownCpo();
    }

    /// @dev Reverts unless both deadlines are < 2^40 and leave the minimum settle and claim windows.
    function _checkDeadlines(uint256 settleDeadline, uint256 claimDeadline) internal view {
        if (settleDeadline > Constants.MAX_TIME || claimDeadline > Constants.MAX_TIME) {
            revert Pool__DeadlineOutOfRange();
        }
        if (settleDeadline < block.timestamp + MIN_SETTLE_WINDOW) revert Pool__SettleWindowTooShort();
        if (claimDeadline < settleDeadline + MIN_CLAIM_WINDOW) revert Pool__ClaimWindowTooShort();
    }

    /// @dev Appends a note commitment (< r, checked by the caller), emits its opening, returns the new root.
    function _insertNote(uint256 commitment, bytes calldata encryptedOpening) internal returns (uint256 root) {
        uint256 index;
        (index, root) = _appendLeaf(commitment);
        emit NoteAdded(index, commitment, encryptedOpening);
    }

    /// @dev Appends a note whose opening its owner already knows (an escrow's refund): empty opening.
    function _insertOwnNote(uint256 commitment) internal returns (uint256 root) {
        uint256 index;
        (index, root) = _appendLeaf(commitment);
        emit NoteAdded(index, commitment, "");
    }

    /// @dev Appends a leaf to the note tree, reverting when it is full.
    function _appendLeaf(uint256 commitment) private returns (uint256 index, uint256 root) {
        if (_tree.size >= Constants.MAX_NOTE_TREE_SIZE) revert Pool__TreeFull();
        (index, root) = _tree.insert(commitment);
    }

    /// @dev Records `root` (the current root) with the current size: once per transaction, after its last insert.
    function _recordRoot(uint256 root) internal {
        uint256 size = _tree.size;
        _rootHistory[size % _rootHistory.length] = _rootKey(root, size);
    }

    /// @dev What the root history stores for `root` at tree size `size`.
    function _rootKey(uint256 root, uint256 size) internal pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, root)
            mstore(0x20, size)
            key := keccak256(0x00, 0x40)
        }
    }

    /// @dev `(extAmount - fee) mod r`, with |extAmount|, fee < 2^64.
    function _publicAmount(int256 extAmount, uint256 fee) internal pure returns (uint256) {
        int256 x = extAmount - int256(fee);
        return x >= 0 ? uint256(x) : Constants.FIELD_MODULUS - uint256(-x);
    }

    /// @dev Pulls exactly `amount` tokens from `from`, rejecting tokens that deliver a different amount.
    function _pull(address from, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        if (token.balanceOf(address(this)) != before + amount) revert Pool__TransferAmountMismatch();
    }

    /// @dev Sends `amount` tokens to `to` (no-op for 0).
    function _send(address to, uint256 amount) internal {
        if (amount != 0) token.safeTransfer(to, amount);
    }
}
