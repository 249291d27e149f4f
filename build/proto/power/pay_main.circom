pragma circom 2.2.3;
include "circuits/pay.circom";
component main {public [noteRoot, noteTreeSize, nullifier, changeCommitment, meterRoot, cpoId, tariffHash, sessionId, amount, fee, extDataHash]} = Pay(24, 16, 16);
