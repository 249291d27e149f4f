// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {InternalLeanIMT, LeanIMTData} from "@zk-kit/lean-imt.sol/InternalLeanIMT.sol";
import {PoseidonT6} from "poseidon-solidity/PoseidonT6.sol";
import {IRegistry} from "./interfaces/IRegistry.sol";
import {Constants} from "./libraries/Constants.sol";

/// @title Registry
/// @notice CPOs, their meter trees (with revocation by generation) and their tariffs.
/// @dev Linked libraries: PoseidonT3 (through InternalLeanIMT), PoseidonT6.
contract Registry is IRegistry {
    using InternalLeanIMT for LeanIMTData;

    /// @dev One slot for the admin and the generation, one for the payout.
    struct Cpo {
        address admin;
        uint96 generation;
        address payout;
    }

    /// @inheritdoc IRegistry
    uint256 public cpoCount;

    /// @inheritdoc IRegistry
    mapping(uint256 tariffHash => uint256 cpoId) public tariffCpo;

    mapping(uint256 cpoId => Cpo) internal _cpos;
    mapping(uint256 cpoId => LeanIMTData) internal _meters;
    /// @dev Generation + 1 in which a root was produced (0 = never).
    mapping(uint256 cpoId => mapping(uint256 root => uint256 generationPlusOne)) internal _rootGeneration;

    modifier onlyCpoAdmin(uint256 cpoId) {
        if (_cpos[cpoId].admin != msg.sender) revert Registry__NotCpoAdmin();
        _;
    }

    /// @inheritdoc IRegistry
    function registerCpo(address payout) external returns (uint256 cpoId) {
        if (payout == address(0)) revert Registry__ZeroAddress();
        cpoId = ++cpoCount;
        _cpos[cpoId] = Cpo({admin: msg.sender, generation: 0, payout: payout});
        emit CpoRegistered(cpoId, msg.sender, payout);
    }

    /// @inheritdoc IRegistry
    function setPayout(uint256 cpoId, address payout) external onlyCpoAdmin(cpoId) {
        if (payout == address(0)) revert Registry__ZeroAddress();
        _cpos[cpoId].payout = payout;
        emit PayoutChanged(cpoId, payout);
    }

    /// @inheritdoc IRegistry
    function addMeter(
        uint256 cpoId,
        uint256 ax,
        uint256 ay,
        uint256 ratedPowerW
    ) external onlyCpoAdmin(cpoId) returns (uint256 index) {
        if (ax >= Constants.FIELD_MODULUS || ay >= Constants.FIELD_MODULUS) revert Registry__InvalidMeterKey();
        if (ratedPowerW == 0 || ratedPowerW > Constants.MAX_RATED_POWER_W) revert Registry__InvalidRatedPower();
        LeanIMTData storage tree = _meters[cpoId];
        index = tree.size;
        if (index >= Constants.MAX_METER_TREE_SIZE) revert Registry__MeterTreeFull();
        uint256 leaf = PoseidonT6.hash([Constants.TAG_METER, ax, ay, cpoId, ratedPowerW]);
        if (tree._has(leaf)) revert Registry__MeterExists();

        uint256 root = tree._insert(leaf);
        _rootGeneration[cpoId][root] = uint256(_cpos[cpoId].generation) + 1;
        emit MeterAdded(cpoId, index, leaf, ax, ay, ratedPowerW, root);
    }

    /// @inheritdoc IRegistry
    function revokeMeter(
        uint256 cpoId,
        uint256 leaf,
        uint256[] calldata siblingNodes
    ) external onlyCpoAdmin(cpoId) {
        LeanIMTData storage tree = _meters[cpoId];
        if (leaf == 0 || !tree._has(leaf)) revert Registry__UnknownMeter();

        uint256 root = tree._remove(leaf, siblingNodes);
        uint256 generation = uint256(_cpos[cpoId].generation) + 1;
        _cpos[cpoId].generation = uint96(generation);
        // Root 0 (every meter revoked) is never valid.
        if (root != 0) _rootGeneration[cpoId][root] = generation + 1;
        emit MeterRevoked(cpoId, leaf, root, generation);
    }

    /// @inheritdoc IRegistry
    function publishTariff(Tariff calldata t) external onlyCpoAdmin(t.cpoId) returns (uint256 tariffHash) {
        if (
            t.flatFee > Constants.MAX_FLAT_FEE ||
            t.minPrice > Constants.MAX_PRICE_CAP ||
            t.maxPrice > Constants.MAX_PRICE_CAP ||
            t.timePricePerHour[0] > Constants.MAX_TIME_PRICE ||
            t.timePricePerHour[1] > Constants.MAX_TIME_PRICE ||
            t.timePricePerHour[2] > Constants.MAX_TIME_PRICE ||
            t.timePricePerHour[3] > Constants.MAX_TIME_PRICE ||
            t.parkingPricePerHour[0] > Constants.MAX_TIME_PRICE ||
            t.parkingPricePerHour[1] > Constants.MAX_TIME_PRICE ||
            t.parkingPricePerHour[2] > Constants.MAX_TIME_PRICE ||
            t.parkingPricePerHour[3] > Constants.MAX_TIME_PRICE ||
            t.energyPrice[0] > Constants.MAX_ENERGY_PRICE ||
            t.energyPrice[1] > Constants.MAX_ENERGY_PRICE ||
            t.energyPrice[2] > Constants.MAX_ENERGY_PRICE ||
            t.energyPrice[3] > Constants.MAX_ENERGY_PRICE
        ) revert Registry__TariffPriceOutOfRange();
        // The circuit floors first, then caps: a floor above the cap would be silently ignored.
        if (t.maxPrice != 0 && t.minPrice > t.maxPrice) revert Registry__MinPriceAboveMaxPrice();
        if (
            t.bandStart[0] == 0 ||
            t.bandStart[0] >= t.bandStart[1] ||
            t.bandStart[1] >= t.bandStart[2] ||
            t.bandStart[2] >= Constants.SECONDS_PER_DAY
        ) revert Registry__InvalidBands();
        if (t.tzOffset >= Constants.SECONDS_PER_DAY) revert Registry__InvalidTzOffset();
        for (uint256 k = 0; k < 3; ++k) {
            if (t.stepSize[k] == 0 || t.stepSize[k] > Constants.MAX_STEP_SIZE) revert Registry__InvalidStepSize();
        }
        if (!_isCanonicalDurationLimit(t.durationLimit)) revert Registry__InvalidDurationLimit();
        if (t.validFrom < block.timestamp || t.validFrom > t.validTo || t.validTo > Constants.MAX_TIME) {
            revert Registry__InvalidValidity();
        }

        tariffHash = _hashTariff(t);
        if (tariffCpo[tariffHash] != 0) revert Registry__TariffExists();
        tariffCpo[tariffHash] = t.cpoId;
        emit TariffPublished(t.cpoId, tariffHash, t);
    }

    /// @inheritdoc IRegistry
    function isValidMeterRoot(uint256 cpoId, uint256 root) external view returns (bool) {
        uint256 g = _rootGeneration[cpoId][root];
        return g != 0 && g == uint256(_cpos[cpoId].generation) + 1;
    }

    /// @inheritdoc IRegistry
    function meterRoot(uint256 cpoId) external view returns (uint256) {
        return _meters[cpoId]._root();
    }

    /// @inheritdoc IRegistry
    function meterCount(uint256 cpoId) external view returns (uint256) {
        return _meters[cpoId].size;
    }

    /// @inheritdoc IRegistry
    function meterGeneration(uint256 cpoId) external view returns (uint256) {
        return _cpos[cpoId].generation;
    }

    /// @inheritdoc IRegistry
    function cpo(uint256 cpoId) external view returns (address admin, address payout) {
        Cpo storage c = _cpos[cpoId];
        return (c.admin, c.payout);
    }

    /// @inheritdoc IRegistry
    function hashTariff(Tariff calldata t) external pure returns (uint256) {
        return _hashTariff(t);
    }

    /// @dev Whether `dl` is a duration limit publishTariff accepts, in its one canonical form (so one limit has one
    /// hash): all zeros (no limit), or 1 <= seconds <= 2^32 - 1, 1 <= sets < 8, each price <= 2^32 - 1 and every
    /// price whose bit in sets is 0 equal to 0.
    function _isCanonicalDurationLimit(uint256[5] calldata dl) internal pure returns (bool) {
        uint256 sets = dl[4];
        if (dl[0] == 0) return sets == 0 && dl[1] == 0 && dl[2] == 0 && dl[3] == 0;
        if (dl[0] > Constants.MAX_DURATION_LIMIT_VALUE || sets == 0 || sets > 7) return false;
        for (uint256 k = 1; k < 4; ++k) {
            if (dl[k] > Constants.MAX_DURATION_LIMIT_VALUE) return false;
            if ((sets >> (k - 1)) & 1 == 0 && dl[k] != 0) return false;
        }
        return true;
    }

    /// @dev H5(TAG_TARIFF, H5(cpoId, flatFee, minPrice, maxPrice, steps), H5(energyPrice[0..3], tzOffset),
    /// H5(timePricePerHour[0..3], H5(parkingPricePerHour[0..3], limit)), H5(bandStart[0..2], validFrom, validTo))
    /// with steps = stepSize[0] + stepSize[1] * 2^33 + stepSize[2] * 2^66 and limit = durationLimit[0] +
    /// durationLimit[1] * 2^32 + durationLimit[2] * 2^64 + durationLimit[3] * 2^96 + durationLimit[4] * 2^128
    /// (docs/protocol.md; bandStart here = bands 1..3 there). publishTariff checks the step sizes and the duration
    /// limit first; hashTariff alone packs whatever it is given.
    function _hashTariff(Tariff calldata t) internal pure returns (uint256) {
        uint256 steps = t.stepSize[0] + (t.stepSize[1] << 33) + (t.stepSize[2] << 66);
        uint256[5] calldata dl = t.durationLimit;
        uint256 limit = dl[0] + (dl[1] << 32) + (dl[2] << 64) + (dl[3] << 96) + (dl[4] << 128);
        uint256 a = PoseidonT6.hash([t.cpoId, t.flatFee, t.minPrice, t.maxPrice, steps]);
        uint256 b = PoseidonT6.hash([t.energyPrice[0], t.energyPrice[1], t.energyPrice[2], t.energyPrice[3], t.tzOffset]);
        uint256[4] calldata pp = t.parkingPricePerHour;
        uint256 p = PoseidonT6.hash([pp[0], pp[1], pp[2], pp[3], limit]);
        uint256 c = PoseidonT6.hash(
            [t.timePricePerHour[0], t.timePricePerHour[1], t.timePricePerHour[2], t.timePricePerHour[3], p]
        );
        uint256 d = PoseidonT6.hash([t.bandStart[0], t.bandStart[1], t.bandStart[2], t.validFrom, t.validTo]);
        return PoseidonT6.hash([Constants.TAG_TARIFF, a, b, c, d]);
    }
}
