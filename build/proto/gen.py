# Prototype generator (not committed): copies circuits/ and adds one OCPI restriction to SessionBill.
import os, re, shutil, sys
ROOT = "/work/main"
feat = sys.argv[1]  # duration | energy | power | both (duration+energy)
out = f"{ROOT}/build/proto/{feat}"
shutil.rmtree(out, ignore_errors=True)
shutil.copytree(f"{ROOT}/circuits", f"{out}/circuits")
sb_path = f"{out}/circuits/lib/session_bill.circom"
tar_path = f"{out}/circuits/lib/tariff.circom"
sb = open(sb_path).read(); tar = open(tar_path).read()
pay_path = f"{out}/circuits/pay.circom"; pay = open(pay_path).read()
close_path = f"{out}/circuits/close.circom"; close = open(close_path).read()

kinds = {"duration": ["D"], "energy": ["K"], "power": ["P"], "both": ["D", "K"]}[feat]
# --- tariff hash: each restriction packs limit + 3 after-prices (32 bits each) into one element nested with parking.
extra_inputs = "".join(f"    signal input limit{k};\n    signal input after{k}[3];\n" for k in kinds)
tar = tar.replace("    signal input stepSize[3];\n\n    // 1 <= stepSize", "    signal input stepSize[3];\n" + extra_inputs + "\n    // 1 <= stepSize", 1)
packs = []
for k in kinds:
    packs.append(f"""    _ <== Num2Bits({24 if k == "P" else 32})(limit{k});
    for (var k = 0; k < 3; k++) {{ _ <== Num2Bits(32)(after{k}[k]); }}
    signal pack{k} <== limit{k} + after{k}[0] * (1 << 32) + after{k}[1] * (1 << 64) + after{k}[2] * (1 << 96);
""")
tar = tar.replace("    signal parking <== Poseidon(4)(parkingPricePerHour);",
    "".join(packs) + f"    signal parking <== Poseidon({4+len(kinds)})([parkingPricePerHour[0], parkingPricePerHour[1], parkingPricePerHour[2], parkingPricePerHour[3]" + "".join(f", pack{k}" for k in kinds) + "]);")
open(tar_path, "w").write(tar)

# --- SessionBill inputs and wiring
sb = sb.replace("    signal input stepSize[3];\n\n    signal input meterAx;", "    signal input stepSize[3];\n" + extra_inputs +
    "".join(f"    signal input split{k}[N - 1];\n" if k != "P" else "    signal input above[N - 1];\n" for k in kinds) + "\n    signal input meterAx;", 1)
sb = sb.replace("minPrice, maxPrice, tzOffset, validFrom, validTo, stepSize);", "minPrice, maxPrice, tzOffset, validFrom, validTo, stepSize" + "".join(f", limit{k}, after{k}" for k in kinds) + ");", 1)

# per interval: replace price/timePrice with restricted ones
decl = "    signal price0[N - 1];\n    signal timePrice0[N - 1];\n"
for k in kinds:
    if k == "P":
        decl += "    signal powerGap[N - 1];\n    signal powerSigned[N - 1];\n    signal onP[N - 1];\n"
    else:
        decl += f"    signal on{k}[N - 1];\n    signal hit{k}[N - 1];\n    var start{k} = 0;\n    var hits{k} = 0;\n"
sb = sb.replace("    signal price[N - 1];\n    signal timePrice[N - 1];\n", decl + "    signal price[N - 1];\n    signal timePrice[N - 1];\n", 1)
sb = sb.replace("(price[i], timePrice[i], parked[i]) <== IntervalPrice()", "(price0[i], timePrice0[i], parked[i]) <== IntervalPrice()", 1)
# after IntervalPrice call (ends with 'timePricePerHour, parkingPricePerHour);' inside the loop) insert selection
loop_anchor = "                                                     timePricePerHour, parkingPricePerHour);\n"
sel = ""
cur_p, cur_t = "price0[i]", "timePrice0[i]"
for idx, k in enumerate(kinds):
    if k == "P":
        sel += f"""        // power class: above[i] = 1 iff de*3600 >= P*dt
        above[i] * (above[i] - 1) === 0;
        powerGap[i] <== de[i] * 3600 - limitP * dt[i];
        powerSigned[i] <== above[i] * (2 * powerGap[i] + 1) - powerGap[i] - 1;
        _ <== Num2Bits(57)(powerSigned[i]);
        onP[i] <== above[i];
"""
    else:
        vol = "dt[i]" if k == "D" else "de[i]"
        sel += f"""        // split{k}: one-hot hint of the first interval starting at the limit
        split{k}[i] * (split{k}[i] - 1) === 0;
        on{k}[i] <== (i > 0 ? on{k}[i - 1] : 0) + split{k}[i];
        hit{k}[i] <== split{k}[i] * start{k};
        hits{k} += hit{k}[i];
        start{k} += {vol};
"""
    np, nt = f"p{k}[i]", f"tp{k}[i]"
    decl2 = f"    signal p{k}[N - 1];\n    signal tp{k}[N - 1];\n    signal atp{k}[N - 1];\n"
    sb = sb.replace("    signal price[N - 1];\n", decl2 + "    signal price[N - 1];\n", 1)
    sel += f"""        {np} <== {cur_p} + on{k}[i] * (after{k}[0] - {cur_p});
        atp{k}[i] <== after{k}[1] + parked[i] * (after{k}[2] - after{k}[1]);
        {nt} <== {cur_t} + on{k}[i] * (atp{k}[i] - {cur_t});
"""
    cur_p, cur_t = np, nt
sel += f"        price[i] <== {cur_p};\n        timePrice[i] <== {cur_t};\n"
sb = sb.replace(loop_anchor, loop_anchor + sel, 1)
# global checks after the loop
glob = ""
for k in kinds:
    if k == "P": continue
    glob += f"""    // the limit is a chain point: the split interval starts exactly at it, or the session ends by it
    on{k}[N - 2] * (on{k}[N - 2] - 1) === 0;
    hits{k} === on{k}[N - 2] * limit{k};
    signal within{k} <== LessEqThan(38)([start{k}, limit{k} + on{k}[N - 2] * (1 << 37)]);
    within{k} === 1;
"""
sb = sb.replace("    // The session's volumes (the tail included)", glob + "    // The session's volumes (the tail included)", 1)
open(sb_path, "w").write(sb)

# --- pay / close wiring (private inputs)
def wire(src, comp):
    ins = "".join(f"    signal input limit{k};\n    signal input after{k}[3];\n" for k in kinds)
    ins += "".join(f"    signal input split{k}[N - 1];\n" if k != "P" else "    signal input above[N - 1];\n" for k in kinds)
    src = src.replace("    signal input n;\n", ins + "    signal input n;\n", 1)
    w = "".join(f"    {comp}.limit{k} <== limit{k};\n    {comp}.after{k} <== after{k};\n" for k in kinds)
    w += "".join(f"    {comp}.split{k} <== split{k};\n" if k != "P" else f"    {comp}.above <== above;\n" for k in kinds)
    src = src.replace(f"    {comp}.stepSize <== stepSize;\n", f"    {comp}.stepSize <== stepSize;\n" + w, 1)
    return src
open(pay_path, "w").write(wire(pay, "bill"))
open(close_path, "w").write(wire(close, "bill"))  # close: the tail interval is not restricted in the prototype
for name, tmpl, params, pubs in [("pay", "Pay", "24, 16, 16", "noteRoot, noteTreeSize, nullifier, changeCommitment, meterRoot, cpoId, tariffHash, sessionId, amount, fee, extDataHash"), ("close", "Close", "16, 16", "refundPrecommitment, cap, cpoId, sessionId, meterRoot, tariffHash, mode, amount, refundCommitment, extDataHash")]:
    open(f"{out}/{name}_main.circom", "w").write(f'pragma circom 2.2.3;\ninclude "circuits/{name}.circom";\ncomponent main {{public [{pubs}]}} = {tmpl}({params});\n')
print(out)
