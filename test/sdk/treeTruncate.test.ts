/**
 * MerkleTree.truncate (a wallet rolling back a reorganisation) and exportNodes / restoreNodes (a wallet restarting
 * from its store): the same roots and paths as a tree built from scratch, and refused nodes that do not fit.
 */
import { expect } from "chai";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { NoteTree } from "../../sdk/core/tree.ts";
import { expectFailure } from "../fixtures/expect.ts";

const leaves = Array.from({ length: 37 }, (_, i) => BigInt(1000 + i));

describe("MerkleTree: truncate, export and restore nodes", function () {
  it("truncates to any size with the root and paths of a tree built from scratch", () => {
    for (const size of [36, 33, 32, 17, 16, 5, 3, 2, 1, 0]) {
      const tree = new NoteTree(leaves);
      tree.truncate(size);
      const fresh = new NoteTree(leaves.slice(0, size));
      expect(tree.size).to.equal(size);
      expect(tree.root).to.equal(fresh.root);
      if (size > 0) expect(tree.path(size - 1)).to.deep.equal(fresh.path(size - 1));
      tree.insertMany([7n, 8n]);
      expect(tree.root).to.equal(new NoteTree([...leaves.slice(0, size), 7n, 8n]).root);
    }
    expect(() => new NoteTree(leaves).truncate(38)).to.throw(InvalidInputError, /cannot truncate/);
  });

  it("restores exported nodes, and refuses nodes of other leaves or shape", async () => {
    const tree = new NoteTree(leaves);
    const restored = new NoteTree();
    restored.restoreNodes(tree.exportNodes(), leaves);
    expect(restored.root).to.equal(tree.root);
    expect(restored.path(20)).to.deep.equal(tree.path(20));
    const other = [...leaves.slice(0, 36), 5n];
    expect(() => new NoteTree().restoreNodes(tree.exportNodes(), other)).to.throw(InvalidInputError, /do not hold/);
    expect(() => new NoteTree().restoreNodes(tree.exportNodes(), leaves.slice(0, 36))).to.throw(InvalidInputError);
    expect(() => new NoteTree().restoreNodes('[["1"]', leaves)).to.throw(InvalidInputError, /not valid/);
    await expectFailure(
      Promise.resolve().then(() => new NoteTree().restoreNodes("[[1]]", [1n])),
      InvalidInputError,
      /do not hold/,
    );
  });
});
