// Load a StandardMerkleTree.dump() file with OpenZeppelin's own library and print what it sees:
// the root, the dump it writes back, and every value's proof. Used by tests/integration/test_oz_tree_dump.py.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const [prefix, path] = process.argv.slice(2);
const require = createRequire(prefix + "/");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const text = readFileSync(path, "utf8");
const tree = StandardMerkleTree.load(JSON.parse(text)); // load() validates the tree against its values
const proofs = [];
for (const [i, v] of tree.entries()) {
  proofs.push({ holder: v[0], balance: v[1], proof: tree.getProof(i) });
}
process.stdout.write(
  JSON.stringify({ root: tree.root, dump: JSON.stringify(tree.dump()), proofs,
    verified: proofs.every((p) => tree.verify([p.holder, p.balance], p.proof)) }),
);
