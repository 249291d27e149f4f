pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "./constants.circom";

// TariffHash: range-checks every tariff field and proves they hash to `tariffHash`:
//   H(TAG_TARIFF, H(cpoId, flatFee, minPrice, maxPrice, steps), H(energyPrice[0..3], tzOffset),
//                 H(timePricePerHour[0..3], H(parkingPricePerHour[0..3], limit)), H(bandStart[1..3], validFrom, validTo))
// (bandStart[0] = 0 is implicit; `bandStart` here holds the starts of bands 1..3), where
//   steps = stepSize[0] + stepSize[1] * 2^33 + stepSize[2] * 2^66 packs the OCPI step sizes of ENERGY (Wh),
//   TIME and PARKING_TIME (s), each 1 <= stepSize <= 2^32 (so 33 bits each: the packing is injective), and
//   limit = d[0] + d[1] * 2^32 + d[2] * 2^64 + d[3] * 2^96 + d[4] * 2^128 packs the duration limit
//   d = [seconds, energyPrice, timePricePerHour, parkingPricePerHour, sets] (four 32-bit values, a 3-bit mask).
// Outputs limitSets: the mask's bits (the limit sets the energy / time / parking price).
// Caller must enforce: tariffHash is a tariff the registry published for cpoId; the registry
// also checks 0 < bandStart[0] < bandStart[1] < bandStart[2] < 86400 and tzOffset < 86400,
// which IntervalPrice relies on, minPrice <= maxPrice when maxPrice > 0, and a canonical limit (all zero when
// seconds = 0; an unset price 0), which the circuit does not need (no limit, no split: DurationLimitSplit).
template TariffHash() {
    signal input tariffHash;
    signal input cpoId;
    signal input flatFee;
    signal input energyPrice[4];
    signal input bandStart[3];
    signal input timePricePerHour[4];
    signal input parkingPricePerHour[4];
    signal input minPrice;
    signal input maxPrice;
    signal input tzOffset;
    signal input validFrom;
    signal input validTo;
    signal input stepSize[3];
    signal input durationLimit[5];
    signal output limitSets[3];

    // 1 <= stepSize <= 2^32: stepSize - 1 fits 32 bits (0 wraps to r - 1 and fails).
    for (var k = 0; k < 3; k++) {
        _ <== Num2Bits(BITS_STEP_SIZE())(stepSize[k] - 1);
    }
    signal steps <== stepSize[0] + stepSize[1] * (1 << 33) + stepSize[2] * (1 << 66);
    _ <== Num2Bits(BITS_FLAT_FEE())(flatFee);
    _ <== Num2Bits(BITS_MAX_PRICE())(minPrice); // the floor shares the cap's bound
    _ <== Num2Bits(BITS_MAX_PRICE())(maxPrice);
    _ <== Num2Bits(BITS_TIME_OF_DAY())(tzOffset);
    _ <== Num2Bits(BITS_TIME())(validFrom);
    _ <== Num2Bits(BITS_TIME())(validTo);
    for (var k = 0; k < 4; k++) {
        _ <== Num2Bits(BITS_ENERGY_PRICE())(energyPrice[k]);
        _ <== Num2Bits(BITS_TIME_PRICE())(timePricePerHour[k]);
        _ <== Num2Bits(BITS_TIME_PRICE())(parkingPricePerHour[k]); // same units and bound as the time price
    }
    for (var k = 0; k < 3; k++) {
        _ <== Num2Bits(BITS_TIME_OF_DAY())(bandStart[k]);
    }
    for (var k = 0; k < 4; k++) {
        _ <== Num2Bits(BITS_DURATION_LIMIT())(durationLimit[k]);
    }
    limitSets <== Num2Bits(3)(durationLimit[4]);
    signal limit <== durationLimit[0] + durationLimit[1] * (1 << 32) + durationLimit[2] * (1 << 64)
                     + durationLimit[3] * (1 << 96) + durationLimit[4] * (1 << 128);

    signal prices <== Poseidon(5)([cpoId, flatFee, minPrice, maxPrice, steps]);
    signal energy <== Poseidon(5)([energyPrice[0], energyPrice[1], energyPrice[2], energyPrice[3], tzOffset]);
    // The parking prices and the limit nest inside the time group: the top hash keeps its width 5 (the registry
    // hashes with Poseidon of at most 5 inputs).
    signal parking <== Poseidon(5)([parkingPricePerHour[0], parkingPricePerHour[1], parkingPricePerHour[2],
                                    parkingPricePerHour[3], limit]);
    signal time <== Poseidon(5)([timePricePerHour[0], timePricePerHour[1], timePricePerHour[2], timePricePerHour[3],
                                 parking]);
    signal window <== Poseidon(5)([bandStart[0], bandStart[1], bandStart[2], validFrom, validTo]);
    signal computedHash <== Poseidon(5)([TAG_TARIFF(), prices, energy, time, window]);
    tariffHash === computedHash;
}

// TimeOfDay: tod = (t + tzOffset) mod 86400, from a hinted quotient pinned right away.
// Caller must enforce: t < 2^41 and tzOffset < 2^17 (so t + tzOffset < 2^42 and the day fits 26 bits).
template TimeOfDay() {
    signal input t;
    signal input tzOffset;
    signal output tod;

    signal local <== t + tzOffset;
    signal day <-- local \ SECONDS_PER_DAY();
    tod <-- local % SECONDS_PER_DAY();
    local === day * SECONDS_PER_DAY() + tod;
    // Unique: tod < 86400 and day < 2^26 keep day*86400 + tod far below the field modulus.
    _ <== Num2Bits(26)(day);
    _ <== Num2Bits(BITS_TIME_OF_DAY())(tod);
    component inDay = LessThan(BITS_TIME_OF_DAY());
    inDay.in <== [tod, SECONDS_PER_DAY()];
    inDay.out === 1;
}

// IntervalPrice: the energy and time prices of an interval that starts at `start`, lasts `dt` seconds
// and adds `de` Wh (the prices of the time-of-day band it starts in), and proves the interval stays
// inside that band (end-inclusive: it may end exactly on the next boundary; a reading on a boundary
// starts the next band; the last band ends at midnight). The interval is parked when de = 0 (OCPI
// PARKING_TIME, "time not charging"): its time price is then the band's parking price, else the
// band's (charging) time price (OCPI TIME). When the interval starts at or after the duration limit
// (afterLimit = 1), each price the limit sets (limitSets[k]) is limitPrice[k] instead of the band's.
// Caller must enforce: start < 2^41, dt < 2^32, tariff fields range-checked and ordered (TariffHash
// + registry), so the band flags below are monotone (a band start passed implies all earlier ones);
// afterLimit and limitSets boolean (DurationLimitSplit, TariffHash).
template IntervalPrice() {
    signal input start;
    signal input dt;
    signal input de;
    signal input tzOffset;
    signal input bandStart[3];
    signal input energyPrice[4];
    signal input timePricePerHour[4];
    signal input parkingPricePerHour[4];
    signal input afterLimit;
    signal input limitPrice[3];
    signal input limitSets[3];
    signal output price;
    signal output timePrice;
    signal output parked;

    signal tod <== TimeOfDay()(start, tzOffset);

    // reached[k] = 1 when the band that starts at bandStart[k] has begun (tod >= bandStart[k]).
    signal reached[3];
    for (var k = 0; k < 3; k++) {
        reached[k] <== GreaterEqThan(BITS_TIME_OF_DAY())([tod, bandStart[k]]);
    }
    signal bandPrice[3];
    bandPrice[0] <== BandValue()(reached, energyPrice);
    bandPrice[1] <== BandValue()(reached, timePricePerHour);
    bandPrice[2] <== BandValue()(reached, parkingPricePerHour);
    // From the duration limit on, each price the limit sets replaces the band's.
    signal useLimit[3];
    signal limited[3];
    for (var k = 0; k < 3; k++) {
        useLimit[k] <== afterLimit * limitSets[k];
        limited[k] <== bandPrice[k] + useLimit[k] * (limitPrice[k] - bandPrice[k]);
    }
    price <== limited[0];
    signal chargingPrice <== limited[1];
    signal parkingPrice <== limited[2];
    parked <== IsZero()(de);
    timePrice <== chargingPrice + parked * (parkingPrice - chargingPrice);
    signal bandEnd <== BandValue()(reached, [bandStart[0], bandStart[1], bandStart[2], SECONDS_PER_DAY()]);

    // tod + dt < 2^33 and bandEnd <= 86400.
    component insideBand = LessEqThan(33);
    insideBand.in <== [tod + dt, bandEnd];
    insideBand.out === 1;
}

// BandValue: value[k] of the band selected by the monotone flags `reached` (band k = the number of
// flags set): value[0] + sum reached[k] * (value[k+1] - value[k]), one product per signal.
// Caller must enforce: reached is monotone (1...1 0...0) and boolean, as IntervalPrice's are.
template BandValue() {
    signal input reached[3];
    signal input value[4];
    signal output out;

    signal step[3];
    for (var k = 0; k < 3; k++) {
        step[k] <== reached[k] * (value[k + 1] - value[k]);
    }
    out <== value[0] + step[0] + step[1] + step[2];
}

// DurationLimitSplit(N): where the session crosses its duration limit (OCPI min_duration / max_duration),
// `seconds` after its first chain point t[0], from the prover's hint `limitPoint[j]` = 1 at the chain point
// j + 1 taken exactly at the limit (at most one set; none when the limit is not reached or seconds = 0, no limit).
// Proves: the hinted point is at t[0] + seconds (padding points are 0 and t[0] + seconds >= 1, so it is an
// active point); after[i] = 1 for the intervals i (from point i) that start at or after it, and crossed = 1 when
// a point was hinted (the live tail, after the last point, is then after it too). mustEndBy = 1 when there is a
// limit and no point at it: the caller must then prove the session lasted at most `seconds`.
// Caller must enforce: seconds < 2^32 (TariffHash), t from SessionChain (non-decreasing over active points),
// and the session's time <= seconds when mustEndBy = 1.
template DurationLimitSplit(N) {
    signal input seconds;
    signal input t[N];
    signal input limitPoint[N - 1];
    signal output after[N - 1];
    signal output crossed;
    signal output mustEndBy;

    signal picked[N - 1];
    var count = 0;
    var pickedTime = 0;
    for (var j = 0; j < N - 1; j++) {
        limitPoint[j] * (limitPoint[j] - 1) === 0;
        picked[j] <== limitPoint[j] * t[j + 1];
        count += limitPoint[j];
        pickedTime += picked[j];
    }
    crossed <== count;
    crossed * (crossed - 1) === 0;
    signal noLimit <== IsZero()(seconds);
    crossed * noLimit === 0;
    pickedTime === crossed * (t[0] + seconds);
    // Interval i starts at point i: after the limit when the limit's point is one of points 1..i.
    after[0] <== 0;
    for (var i = 1; i < N - 1; i++) {
        after[i] <== after[i - 1] + limitPoint[i - 1];
    }
    mustEndBy <== 1 - noLimit - crossed;
}
