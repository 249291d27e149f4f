// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRegistry
/// @notice Charge point operators (CPOs), their meters and their tariffs. The pool and the circuits read from it:
/// a meter root is valid for a CPO only in that CPO's current generation (a revocation starts a new one), and a
/// tariff is identified by its Poseidon hash, recomputed on-chain from the published fields (docs/protocol.md).
interface IRegistry {
    /// @notice A tariff version as published by a CPO. All amounts are token base units.
    /// @param cpoId The publishing CPO.
    /// @param flatFee Session fee (< 2^40).
    /// @param energyPrice Price per kWh in each of the 4 time-of-day bands (each < 2^32).
    /// @param bandStart Starts of bands 1..3 in seconds after local midnight (band 0 starts at 0):
    /// 0 < bandStart[0] < bandStart[1] < bandStart[2] < 86400.
    /// @param timePricePerHour Price per hour of charging time (OCPI TIME: an interval that adds energy) in each of
    /// the 4 bands (each < 2^32).
    /// @param parkingPricePerHour Price per hour of parking time (OCPI PARKING_TIME: an interval that adds no
    /// energy) in each of the 4 bands (each < 2^32).
    /// @param minPrice Floor on a session's price, 0 = none (< 2^40; at most maxPrice when a cap is set).
    /// @param maxPrice Cap on a session's price, 0 = no cap (< 2^40).
    /// @param tzOffset Seconds added to UTC to get local time, 0 <= tzOffset < 86400 (negative zones mod one day).
    /// @param validFrom First unix second of validity (never before the publication block).
    /// @param validTo Last unix second of validity, validFrom <= validTo < 2^40.
    /// @param stepSize OCPI step_size of ENERGY (Wh), TIME and PARKING_TIME (seconds): each dimension's session
    /// volume is rounded up once to a multiple of it, 1 <= stepSize <= 2^32 (1 = every Wh and second exactly).
    /// @param durationLimit OCPI min_duration / max_duration: `[seconds, energyPrice, timePricePerHour,
    /// parkingPricePerHour, sets]`. From `seconds` after the session's first chain point on, each price whose bit in
    /// `sets` is 1 (bit 0 energy, bit 1 time, bit 2 parking) replaces the band prices of its dimension; an unset
    /// price is 0. Seconds and prices < 2^32, 1 <= sets < 8; no limit = all zeros.
    struct Tariff {
        uint256 cpoId;
        uint256 flatFee;
        uint256[4] energyPrice;
        uint256[3] bandStart;
        uint256[4] timePricePerHour;
        uint256[4] parkingPricePerHour;
        uint256 minPrice;
        uint256 maxPrice;
        uint256 tzOffset;
        uint256 validFrom;
        uint256 validTo;
        uint256[3] stepSize;
        uint256[5] durationLimit;
    }

    /// @notice Emitted when a CPO registers.
    /// @param cpoId The new CPO id (ids start at 1).
    /// @param admin The account that administers the CPO (the registering account).
    /// @param payout The address that receives the CPO's withdrawals from the pool.
    event CpoRegistered(uint256 indexed cpoId, address admin, address payout);

    /// @notice Emitted when a CPO changes its payout address.
    /// @param cpoId The CPO.
    /// @param payout The new payout address.
    event PayoutChanged(uint256 indexed cpoId, address payout);

    /// @notice Emitted when a meter joins a CPO's meter tree.
    /// @param cpoId The CPO.
    /// @param index The leaf index in the CPO's meter tree.
    /// @param leaf The meter leaf `H5(TAG_METER, ax, ay, cpoId, ratedPowerW)`.
    /// @param ax The x coordinate of the meter's EdDSA (Baby Jubjub) public key.
    /// @param ay The y coordinate of the meter's EdDSA public key.
    /// @param ratedPowerW The meter's rated power in watts.
    /// @param root The CPO's meter root after the insertion (valid in the current generation).
    event MeterAdded(
        uint256 indexed cpoId,
        uint256 index,
        uint256 leaf,
        uint256 ax,
        uint256 ay,
        uint256 ratedPowerW,
        uint256 root
    );

    /// @notice Emitted when a meter is revoked: its leaf becomes 0 and a new generation starts.
    /// @param cpoId The CPO.
    /// @param leaf The revoked meter leaf.
    /// @param root The CPO's meter root after the removal, the only valid root of the new generation.
    /// @param generation The new generation of the CPO's meter roots.
    event MeterRevoked(uint256 indexed cpoId, uint256 leaf, uint256 root, uint256 generation);

    /// @notice Emitted when a CPO publishes a tariff version.
    /// @param cpoId The CPO.
    /// @param tariffHash The tariff hash recomputed on-chain from `tariff`.
    /// @param tariff The published fields.
    event TariffPublished(uint256 indexed cpoId, uint256 indexed tariffHash, Tariff tariff);

    /// @notice The caller is not the admin of that CPO (or the CPO does not exist).
    error Registry__NotCpoAdmin();
    /// @notice A payout address is the zero address.
    error Registry__ZeroAddress();
    /// @notice A meter public key coordinate is not below the field modulus.
    error Registry__InvalidMeterKey();
    /// @notice The rated power is 0 or does not fit 24 bits.
    error Registry__InvalidRatedPower();
    /// @notice The meter leaf is already in the CPO's tree.
    error Registry__MeterExists();
    /// @notice The meter leaf is not in the CPO's tree.
    error Registry__UnknownMeter();
    /// @notice The CPO's meter tree holds 2^METER_TREE_DEPTH leaves.
    error Registry__MeterTreeFull();
    /// @notice A tariff price, fee or cap is out of range.
    error Registry__TariffPriceOutOfRange();
    /// @notice A tariff's minPrice is above its (non-zero) maxPrice.
    error Registry__MinPriceAboveMaxPrice();
    /// @notice The band starts are not 0 < b1 < b2 < b3 < 86400.
    error Registry__InvalidBands();
    /// @notice tzOffset >= 86400.
    error Registry__InvalidTzOffset();
    /// @notice A step size is 0 or above 2^32.
    error Registry__InvalidStepSize();
    /// @notice A duration limit value is >= 2^32, sets >= 8, a limit sets no price or a price its bit does not set,
    /// or a zero-second limit is not all zeros.
    error Registry__InvalidDurationLimit();
    /// @notice validFrom < block.timestamp, validFrom > validTo or validTo >= 2^40.
    error Registry__InvalidValidity();
    /// @notice This tariff (same hash) was already published.
    error Registry__TariffExists();

    /// @notice Registers a CPO administered by the caller.
    /// @param payout The address that receives the CPO's withdrawals.
    /// @return cpoId The new CPO id (from 1).
    function registerCpo(address payout) external returns (uint256 cpoId);

    /// @notice Changes a CPO's payout address. Only the CPO admin.
    /// @param cpoId The CPO.
    /// @param payout The new payout address (non-zero).
    function setPayout(uint256 cpoId, address payout) external;

    /// @notice Adds a meter to a CPO's meter tree and records the new root in the current generation.
    /// Only the CPO admin.
    /// @param cpoId The CPO.
    /// @param ax The x coordinate of the meter's EdDSA public key (< r).
    /// @param ay The y coordinate of the meter's EdDSA public key (< r).
    /// @param ratedPowerW The meter's rated power in watts, 1..2^24-1.
    /// @return index The meter's leaf index.
    function addMeter(uint256 cpoId, uint256 ax, uint256 ay, uint256 ratedPowerW) external returns (uint256 index);

    /// @notice Revokes a meter: sets its leaf to 0 and starts a new generation in which only the resulting root is
    /// valid, so every older root of this CPO is refused. Only the CPO admin.
    /// @param cpoId The CPO.
    /// @param leaf The meter leaf to revoke.
    /// @param siblingNodes The LeanIMT siblings of the leaf (as `@zk-kit/lean-imt` `generateProof(...).siblings`).
    function revokeMeter(uint256 cpoId, uint256 leaf, uint256[] calldata siblingNodes) external;

    /// @notice Publishes a tariff version; its hash is recomputed on-chain. Only the CPO admin of `t.cpoId`.
    /// Tariffs are immutable and never backdated.
    /// @param t The tariff fields.
    /// @return tariffHash The tariff hash (docs/protocol.md).
    function publishTariff(Tariff calldata t) external returns (uint256 tariffHash);

    /// @notice Whether `root` is a meter root of `cpoId` in the CPO's current generation.
    /// @param cpoId The CPO.
    /// @param root The meter root.
    /// @return True iff the root is valid now.
    function isValidMeterRoot(uint256 cpoId, uint256 root) external view returns (bool);

    /// @notice The current meter root of a CPO (0 if it has no meter).
    /// @param cpoId The CPO.
    /// @return The root.
    function meterRoot(uint256 cpoId) external view returns (uint256);

    /// @notice The number of leaves in a CPO's meter tree (revoked meters stay as zero leaves and are counted).
    /// @param cpoId The CPO.
    /// @return The tree size.
    function meterCount(uint256 cpoId) external view returns (uint256);

    /// @notice The generation of a CPO's meter roots (starts at 0, +1 per revocation).
    /// @param cpoId The CPO.
    /// @return The generation.
    function meterGeneration(uint256 cpoId) external view returns (uint256);

    /// @notice The CPO that published a tariff.
    /// @param tariffHash The tariff hash.
    /// @return cpoId The publishing CPO, 0 if unknown.
    function tariffCpo(uint256 tariffHash) external view returns (uint256 cpoId);

    /// @notice A CPO's admin and payout address (both zero if the CPO does not exist).
    /// @param cpoId The CPO.
    /// @return admin The admin account.
    /// @return payout The payout address.
    function cpo(uint256 cpoId) external view returns (address admin, address payout);

    /// @notice The number of registered CPOs (= the last cpoId).
    /// @return The count.
    function cpoCount() external view returns (uint256);

    /// @notice Computes the tariff hash of `t` without checking or storing it.
    /// @param t The tariff fields.
    /// @return The tariff hash.
    function hashTariff(Tariff calldata t) external view returns (uint256);
}
