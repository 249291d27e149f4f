pragma circom 2.2.3;
include "circuits/close.circom";
component main {public [refundPrecommitment, cap, cpoId, sessionId, meterRoot, tariffHash, mode, amount, refundCommitment, extDataHash]} = Close(16, 16);
