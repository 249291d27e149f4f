import { expect } from "chai";
import fc from "fast-check";
import { LeanIMT } from "@zk-kit/lean-imt";
import { METER_TREE_DEPTH, NOTE_TREE_DEPTH } from "../../sdk/core/constants.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { merkleNode } from "../../sdk/core/hash.ts";
import { MerkleTree, MeterTree, NoteTree, rootFromPath } from "../../sdk/core/tree.ts";

const leavesOf = (n: number, seed: number) => Array.from({ length: n }, (_, i) => BigInt(seed * 1000 + i + 1));

describe("sdk/tree", () => {
  it("rootFromPath(path(i)) is the LeanIMT root for random sizes and every index", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 1000 }), (size, seed) => {
        const leaves = leavesOf(size, seed);
        const tree = new NoteTree(leaves);
        const reference = new LeanIMT<bigint>(merkleNode, leaves);
        expect(tree.root).to.equal(reference.root);
        for (let i = 0; i < size; i++) {
          const p = tree.path(i);
          expect(p.siblings.length).to.equal(NOTE_TREE_DEPTH);
          expect(p.leaf).to.equal(leaves[i]);
          expect(p.leafIndex).to.equal(BigInt(i));
          expect(p.treeSize).to.equal(BigInt(size));
          expect(rootFromPath(p), `index ${i} of ${size}`).to.equal(reference.root);
          expect(rootFromPath(tree.path(i, METER_TREE_DEPTH))).to.equal(reference.root);
        }
      }),
      { numRuns: 25 },
    );
  });

  it("follows the sibling rule on a 3-leaf tree", () => {
    const [a, b, c] = [11n, 22n, 33n];
    const tree = new MeterTree([a, b, c]);
    expect(tree.root).to.equal(merkleNode(merkleNode(a, b), c));
    const p2 = tree.path(2);
    expect(p2.siblings.slice(0, 2)).to.deep.equal([0n, merkleNode(a, b)]); // level 0: no right sibling, carried up
    expect(p2.siblings.slice(2).every((s) => s === 0n)).to.equal(true);
    expect(tree.path(0).siblings.slice(0, 2)).to.deep.equal([b, c]);
    expect(tree.path(1).siblings.slice(0, 2)).to.deep.equal([a, c]);
  });

  it("the root depends on every hashed sibling, and only the index's own shape verifies", () => {
    const tree = new NoteTree(leavesOf(13, 1));
    const p = tree.path(9);
    const tampered = { ...p, siblings: p.siblings.map((s, i) => (i === 1 ? s + 1n : s)) };
    expect(rootFromPath(tampered)).to.not.equal(tree.root);
    expect(rootFromPath({ ...p, leafIndex: 8n })).to.not.equal(tree.root);
    expect(rootFromPath({ ...p, treeSize: 12n })).to.not.equal(tree.root); // level 2 loses its right sibling
    expect(rootFromPath({ ...p, treeSize: 14n })).to.equal(tree.root); // same shape for index 9
    expect(() => rootFromPath({ ...p, leafIndex: 13n })).to.throw(InvalidInputError, /outside the tree/);
  });

  it("insert and insertMany agree; indexOf, size, empty root", () => {
    const one = new MerkleTree(8);
    expect(one.root).to.equal(0n);
    const leaves = leavesOf(20, 3);
    leaves.forEach((l, i) => expect(one.insert(l)).to.equal(i));
    expect(one.root).to.equal(new MerkleTree(8, leaves).root);
    expect(one.size).to.equal(20);
    expect(one.indexOf(leaves[7]!)).to.equal(7);
    expect(one.indexOf(999_999n)).to.equal(-1);
  });

  it("refuses paths that do not exist or do not fit the depth, and a full tree", () => {
    const tree = new MerkleTree(3, leavesOf(8, 2));
    expect(() => tree.path(8)).to.throw(InvalidInputError, /outside the tree/);
    expect(() => tree.path(0, 2)).to.throw(InvalidInputError, /exceeds 2\^2/);
    expect(() => tree.insert(1n)).to.throw(InvalidInputError, /full/);
    expect(() => new MerkleTree(3).insert(-1n)).to.throw(InvalidInputError, /field element/);
  });
});
