pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/eddsaposeidon.circom";
include "circomlib/circuits/poseidon.circom";
include "./constants.circom";
include "./leanimt.circom";
include "./session_chain.circom";
include "./tariff.circom";

// MeterMembership(DEPTH): meterLeaf = H(TAG_METER, Ax, Ay, cpoId, ratedPowerW) is in the CPO's
// meter tree under `meterRoot`; ratedPowerW < 2^24.
// Caller must enforce: meterRoot is a current (not revoked) meter root of cpoId in the registry.
template MeterMembership(DEPTH) {
    signal input meterRoot;
    signal input cpoId;
    signal input Ax;
    signal input Ay;
    signal input ratedPowerW;
    signal input index;
    signal input treeSize;
    signal input siblings[DEPTH];
    signal output leaf;

    _ <== Num2Bits(BITS_RATED_POWER())(ratedPowerW);
    leaf <== Poseidon(5)([TAG_METER(), Ax, Ay, cpoId, ratedPowerW]);
    // The tree size only shapes the path here: a width-5 tagged leaf can equal no Poseidon(2) node,
    // so any path that reaches meterRoot proves a real leaf (docs/protocol.md, Trees).
    signal computedRoot <== LeanIMTRoot(DEPTH)(leaf, index, treeSize, siblings);
    meterRoot === computedRoot;
}

// SessionBill(N, METER_DEPTH, WITH_TAIL): what a session costs, from the meter's signed chain points
// and, when WITH_TAIL = 1 and tailEnabled = 1, one more reading after the last chain point (a live tail).
// Proves:
//  - the tariff fields hash to tariffHash and t_1 lies in [validFrom, validTo];
//  - the meter (leaf with its rated power) is in cpoId's meter tree under meterRoot;
//  - the chain over the first n points, started from (sessionId, cpoId, meterLeaf, tariffHash),
//    ends in `head` (points after n are zero and masked);
//  - with the tail enabled: one more interval from chain point n to (tTail, eTail), same rules;
//    with it disabled, tTail = eTail = 0;
//  - time and energy never decrease, every interval fits 32 bits, power stays within the rating
//    (de * 3600 <= ratedPowerW * dt), no interval straddles a band boundary;
//  - bill = floor((flatFee*D + sum de*price[band]*3600 + dt*timePrice[band]*1000) / D), remainder < D,
//    each interval priced in the band it starts in (energy and time prices both by time of day), its
//    timePrice the band's parking price when it is parked (de = 0), else the band's time price, and
//    amount = max(bill, minPrice), then at most maxPrice when maxPrice > 0 (OCPI min_price, max_price);
//  - step_size (OCPI): the session's energy, charging time (intervals with de > 0) and parking time
//    (de = 0) are each rounded up once to a multiple of stepSize[0..2] (Wh, s, s), the round-up added
//    to the numerator at the price of the dimension's last interval (the tail's when it adds to it):
//    + energyExtra*lastEnergyPrice*3600 + (timeExtra*lastTimePrice + parkingExtra*lastParkingPrice)*1000;
//  - duration limit (OCPI min_duration / max_duration): with durationLimit[0] = seconds > 0, either a chain
//    point is at t_1 + seconds (the prover's hint durationLimitPoint) and every interval from it (and the tail)
//    is priced with the limit's prices for the dimensions it sets, or the session (the tail included) lasts at
//    most `seconds`.
// Caller must enforce: a meter signature (Ax, Ay) over a message made from `head` and n (or the tail);
// tailEnabled is boolean;
// that tariffHash is published by cpoId and meterRoot is current for cpoId (contract); the registry's
// minPrice <= maxPrice when maxPrice > 0 (else the cap wins).
template SessionBill(N, METER_DEPTH, WITH_TAIL) {
    signal input sessionId;
    signal input cpoId;
    signal input meterRoot;
    signal input tariffHash;

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

    signal input meterAx;
    signal input meterAy;
    signal input ratedPowerW;
    signal input meterIndex;
    signal input meterTreeSize;
    signal input meterSiblings[METER_DEPTH];

    signal input n;
    signal input t[N];
    signal input e[N];
    signal input durationLimitPoint[N - 1];
    signal input tailEnabled;
    signal input tTail;
    signal input eTail;

    signal output head;
    signal output amount;

    signal limitSets[3] <== TariffHash()(tariffHash, cpoId, flatFee, energyPrice, bandStart, timePricePerHour,
                                         parkingPricePerHour, minPrice, maxPrice, tzOffset, validFrom, validTo,
                                         stepSize, durationLimit);
    signal limitPrice[3] <== [durationLimit[1], durationLimit[2], durationLimit[3]];

    signal meterLeaf <== MeterMembership(METER_DEPTH)(meterRoot, cpoId, meterAx, meterAy, ratedPowerW,
                                                      meterIndex, meterTreeSize, meterSiblings);

    component chain = SessionChain(N);
    chain.sessionId <== sessionId;
    chain.cpoId <== cpoId;
    chain.meterLeaf <== meterLeaf;
    chain.tariffHash <== tariffHash;
    chain.n <== n;
    chain.t <== t;
    chain.e <== e;
    head <== chain.head;
    _ <== chain.active[0]; // only later points gate intervals; point 1 is always active

    component limit = DurationLimitSplit(N);
    limit.seconds <== durationLimit[0];
    limit.t <== t;
    limit.limitPoint <== durationLimitPoint;

    // The tariff in force at plug-in: validFrom <= t_1 <= validTo (all 40-bit).
    _ <== Num2Bits(BITS_TIME())(t[0]);
    _ <== Num2Bits(BITS_ENERGY())(e[0]);
    component afterStart = LessEqThan(BITS_TIME());
    afterStart.in <== [validFrom, t[0]];
    afterStart.out === 1;
    component beforeEnd = LessEqThan(BITS_TIME());
    beforeEnd.in <== [t[0], validTo];
    beforeEnd.out === 1;

    // Intervals i = 0..N-2 between points i and i+1; live only when point i+1 is active.
    // dt, de < 2^32 also proves monotonicity, and with t_1, e_1 < 2^40 bounds every later point.
    signal dt[N - 1];
    signal de[N - 1];
    signal price[N - 1];
    signal timePrice[N - 1];
    signal energyCost[N - 1];
    signal timeCost[N - 1];
    signal sum[N];
    // For step_size: the prices of the last interval that adds to each dimension (energy, charging time,
    // parking time; 0 while none has) and the running charging time.
    signal parked[N - 1];
    signal parkedTime[N - 1];
    signal dtZero[N - 1];
    signal parkedWithTime[N - 1];
    signal chargingTime[N];
    signal lastEnergyPrice[N];
    signal lastTimePrice[N];
    signal lastParkingPrice[N];
    chargingTime[0] <== 0;
    lastEnergyPrice[0] <== 0;
    lastTimePrice[0] <== 0;
    lastParkingPrice[0] <== 0;
    component plausible[N - 1];
    sum[0] <== flatFee * BILL_DIVISOR();
    for (var i = 0; i < N - 1; i++) {
        dt[i] <== chain.active[i + 1] * (t[i + 1] - t[i]);
        de[i] <== chain.active[i + 1] * (e[i + 1] - e[i]);
        _ <== Num2Bits(BITS_INTERVAL())(dt[i]);
        _ <== Num2Bits(BITS_INTERVAL())(de[i]);

        // Power plausibility: de * 3600 < 2^44, ratedPowerW * dt < 2^56.
        plausible[i] = LessEqThan(56);
        plausible[i].in <== [de[i] * 3600, ratedPowerW * dt[i]];
        plausible[i].out === 1;

        (price[i], timePrice[i], parked[i]) <== IntervalPrice()(t[i], dt[i], de[i], tzOffset, bandStart, energyPrice,
                                                     timePricePerHour, parkingPricePerHour, limit.after[i],
                                                     limitPrice, limitSets);
        // A charging interval (de > 0, so dt > 0) adds energy and charging time; a parked one adds parking
        // time only when dt > 0 (inactive intervals have dt = de = 0 and change nothing).
        dtZero[i] <== IsZero()(dt[i]);
        parkedWithTime[i] <== parked[i] * (1 - dtZero[i]);
        lastEnergyPrice[i + 1] <== lastEnergyPrice[i] + (1 - parked[i]) * (price[i] - lastEnergyPrice[i]);
        lastTimePrice[i + 1] <== lastTimePrice[i] + (1 - parked[i]) * (timePrice[i] - lastTimePrice[i]);
        lastParkingPrice[i + 1] <== lastParkingPrice[i] + parkedWithTime[i] * (timePrice[i] - lastParkingPrice[i]);
        parkedTime[i] <== parked[i] * dt[i];
        chargingTime[i + 1] <== chargingTime[i] + dt[i] - parkedTime[i];
        energyCost[i] <== de[i] * price[i];
        timeCost[i] <== dt[i] * timePrice[i];
        // Each term < 2^76; with the tail interval the total stays below 2^81.
        sum[i + 1] <== sum[i] + energyCost[i] * 3600 + timeCost[i] * 1000;
    }

    // The session's volumes (the tail included): energy, total time and charging time (< 2^37 each).
    var energy = 0;
    var time = 0;
    for (var i = 0; i < N - 1; i++) {
        energy += de[i];
        time += dt[i];
    }
    signal tailNumerator;
    signal finalEnergyPrice;
    signal finalTimePrice;
    signal finalParkingPrice;
    signal finalChargingTime;
    if (WITH_TAIL == 1) {
        component tail = TailCharge(N);
        tail.active <== chain.active;
        tail.t <== t;
        tail.e <== e;
        tail.tailEnabled <== tailEnabled;
        tail.tTail <== tTail;
        tail.eTail <== eTail;
        tail.ratedPowerW <== ratedPowerW;
        tail.tzOffset <== tzOffset;
        tail.bandStart <== bandStart;
        tail.energyPrice <== energyPrice;
        tail.timePricePerHour <== timePricePerHour;
        tail.parkingPricePerHour <== parkingPricePerHour;
        tail.afterLimit <== limit.crossed;
        tail.limitPrice <== limitPrice;
        tail.limitSets <== limitSets;
        tailNumerator <== tail.numerator;
        // The tail is the session's last interval: it updates the last prices like a chain interval.
        signal tailDtZero <== IsZero()(tail.dt);
        signal tailParkedWithTime <== tail.parked * (1 - tailDtZero);
        finalEnergyPrice <== lastEnergyPrice[N - 1] + (1 - tail.parked) * (tail.price - lastEnergyPrice[N - 1]);
        finalTimePrice <== lastTimePrice[N - 1] + (1 - tail.parked) * (tail.timePrice - lastTimePrice[N - 1]);
        finalParkingPrice <== lastParkingPrice[N - 1] + tailParkedWithTime * (tail.timePrice - lastParkingPrice[N - 1]);
        signal tailParkedTime <== tail.parked * tail.dt;
        finalChargingTime <== chargingTime[N - 1] + tail.dt - tailParkedTime;
        energy += tail.de;
        time += tail.dt;
    } else {
        _ <== limit.crossed; // only the tail reads it
        tailEnabled === 0;
        tTail === 0;
        eTail === 0;
        tailNumerator <== 0;
        finalEnergyPrice <== lastEnergyPrice[N - 1];
        finalTimePrice <== lastTimePrice[N - 1];
        finalParkingPrice <== lastParkingPrice[N - 1];
        finalChargingTime <== chargingTime[N - 1];
    }
    // A limit not reached at a chain point: the whole session (< 2^37 s) lasts at most its seconds (< 2^32).
    signal withinLimit <== LessEqThan(38)([time, durationLimit[0]]);
    limit.mustEndBy * (1 - withinLimit) === 0;

    // OCPI step_size: each dimension's session volume rounded up to its step once, the round-up billed at the
    // price of the dimension's last interval (each product < 2^64).
    signal energyExtra <== StepRoundUp()(energy, stepSize[0]);
    signal timeExtra <== StepRoundUp()(finalChargingTime, stepSize[1]);
    signal parkingExtra <== StepRoundUp()(time - finalChargingTime, stepSize[2]);
    signal energyExtraCost <== energyExtra * finalEnergyPrice;
    signal timeExtraCost <== timeExtra * finalTimePrice;
    signal parkingExtraCost <== parkingExtra * finalParkingPrice;
    signal total <== sum[N - 1] + tailNumerator + energyExtraCost * 3600 + (timeExtraCost + parkingExtraCost) * 1000;

    // One division: bill = floor(total / D), remainder range-checked below D.
    signal bill <-- total \ BILL_DIVISOR();
    signal remainder <-- total % BILL_DIVISOR();
    total === bill * BILL_DIVISOR() + remainder;
    _ <== Num2Bits(BITS_VALUE())(bill);
    _ <== Num2Bits(22)(remainder);
    component remainderBelowD = LessThan(22);
    remainderBelowD.in <== [remainder, BILL_DIVISOR()];
    remainderBelowD.out === 1;

    // OCPI min_price: at least minPrice (0 = no floor; minPrice is 40-bit checked by TariffHash).
    signal underFloor <== LessThan(BITS_VALUE())([bill, minPrice]);
    signal floored <== bill + underFloor * (minPrice - bill);
    // OCPI max_price: cap the result when a cap is set (maxPrice is 40-bit checked by TariffHash).
    signal noCap <== IsZero()(maxPrice);
    signal overCap <== LessThan(BITS_VALUE())([maxPrice, floored]);
    signal capped <== overCap * (1 - noCap);
    amount <== floored + capped * (maxPrice - floored);
}

// TailCharge(N): the bill numerator of one interval from the last chain point (the one with
// active[i] = 1, active[i+1] = 0) to a live-tail reading (tTail, eTail), or 0 when disabled
// (then tTail = eTail = 0 is enforced). Same rules as chain intervals: dt, de < 2^32, power within
// the rating, no band boundary crossed, parked (de = 0) at the parking price. Also outputs the tail's
// dt, de, parked flag and prices (all 0 when disabled), for the step_size round-up. afterLimit: the tail
// starts at or after the duration limit (its prices then replace the band's where the limit sets them).
// Caller must enforce: tailEnabled is boolean; active is SessionChain's mask; t[0] < 2^40; afterLimit and
// limitSets boolean.
template TailCharge(N) {
    signal input active[N];
    signal input t[N];
    signal input e[N];
    signal input tailEnabled;
    signal input tTail;
    signal input eTail;
    signal input ratedPowerW;
    signal input tzOffset;
    signal input bandStart[3];
    signal input energyPrice[4];
    signal input timePricePerHour[4];
    signal input parkingPricePerHour[4];
    signal input afterLimit;
    signal input limitPrice[3];
    signal input limitSets[3];
    signal output numerator;
    signal output dt;
    signal output de;
    signal output parked;
    signal output price;
    signal output timePrice;

    (1 - tailEnabled) * tTail === 0;
    (1 - tailEnabled) * eTail === 0;

    // The last chain point: isLast[i] = active[i] - active[i+1].
    signal lastT[N];
    signal lastE[N];
    for (var i = 0; i < N; i++) {
        var isLast = active[i] - (i + 1 < N ? active[i + 1] : 0);
        lastT[i] <== isLast * t[i] + (i > 0 ? lastT[i - 1] : 0);
        lastE[i] <== isLast * e[i] + (i > 0 ? lastE[i - 1] : 0);
    }
    dt <== tailEnabled * (tTail - lastT[N - 1]);
    de <== tailEnabled * (eTail - lastE[N - 1]);
    _ <== Num2Bits(BITS_INTERVAL())(dt);
    _ <== Num2Bits(BITS_INTERVAL())(de);
    component plausible = LessEqThan(56);
    plausible.in <== [de * 3600, ratedPowerW * dt];
    plausible.out === 1;

    (price, timePrice, parked) <== IntervalPrice()(lastT[N - 1], dt, de, tzOffset, bandStart, energyPrice,
                                                   timePricePerHour, parkingPricePerHour, afterLimit, limitPrice,
                                                   limitSets);
    signal energyCost <== de * price;
    signal timeCost <== dt * timePrice;
    numerator <== energyCost * 3600 + timeCost * 1000;
}

// MeterSignature: the meter's EdDSA-Poseidon signature (R8, S) over `message` under (Ax, Ay).
// Always enabled. Caller must enforce: (Ax, Ay) is the meter proven by MeterMembership.
template MeterSignature() {
    signal input Ax;
    signal input Ay;
    signal input R8x;
    signal input R8y;
    signal input S;
    signal input message;

    component verifier = EdDSAPoseidonVerifier();
    verifier.enabled <== 1;
    verifier.Ax <== Ax;
    verifier.Ay <== Ay;
    verifier.R8x <== R8x;
    verifier.R8y <== R8y;
    verifier.S <== S;
    verifier.M <== message;
}

// StepRoundUp: what rounding `volume` up to a multiple of `step` adds (OCPI step_size):
// extra = ceil(volume / step) * step - volume, from a hinted quotient q with extra = q * step - volume
// with 0 <= extra < step: q < 2^40 and step <= 2^32 keep q * step far below the field modulus, so the
// equation holds over the integers and q, extra are unique.
// Caller must enforce: 1 <= step <= 2^32 (TariffHash) and volume < 2^40.
template StepRoundUp() {
    signal input volume;
    signal input step;
    signal output extra;

    signal q <-- (volume + step - 1) \ step;
    extra <== q * step - volume;
    _ <== Num2Bits(40)(q);
    _ <== Num2Bits(32)(extra);
    component belowStep = LessThan(33);
    belowStep.in <== [extra, step];
    belowStep.out === 1;
}
