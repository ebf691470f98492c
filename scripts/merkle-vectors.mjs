// Write reference vectors for holder-balance Merkle trees, produced by OpenZeppelin's own JavaScript
// library, so our Python tree is tested against theirs and not against itself.
//
//   scripts/install-merkle-js.sh                       # once: @openzeppelin/merkle-tree@1.0.8 into .tools/
//   node scripts/merkle-vectors.mjs > tests/data/oz-merkle-vectors.json
//
// Addresses and balances are derived from fixed seeds (keccak256 of a label), so a rerun writes the same
// file. Nothing here is computed by equitoken: roots, proofs, node arrays and multiproofs all come from
// StandardMerkleTree.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = process.env.MERKLE_JS_PREFIX ?? join(root, '.tools', 'merkle-js');
const require = createRequire(join(prefix, 'node_modules', 'noop.js'));
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const { keccak256 } = require('ethereum-cryptography/keccak');
const { utf8ToBytes, bytesToHex } = require('ethereum-cryptography/utils');
const version = require('@openzeppelin/merkle-tree/package.json').version;

const ENCODING = ['address', 'uint256'];
const hex = (label) => bytesToHex(keccak256(utf8ToBytes(label)));
const address = (label) => '0x' + hex(label).slice(0, 40);

// EIP-55 written out here so the mixed-case case does not depend on our Python checksum code.
function checksummed(addr) {
  const lower = addr.slice(2).toLowerCase();
  const digest = bytesToHex(keccak256(utf8ToBytes(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    out += parseInt(digest[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

function holders(name, count, balance = (i) => BigInt('0x' + hex(`${name}/balance/${i}`).slice(0, 16))) {
  return Array.from({ length: count }, (_, i) => [address(`${name}/holder/${i}`), balance(i).toString()]);
}

const cases = [
  { name: 'one leaf', values: holders('one', 1) },
  { name: 'two leaves', values: holders('two', 2) },
  { name: 'three leaves', values: holders('three', 3) },
  { name: 'seven leaves', values: holders('seven', 7) },
  { name: 'hundred leaves', values: holders('hundred', 100) },
  { name: 'duplicate balances', values: holders('dup', 9, () => 1000000000000000000n) },
  {
    name: 'zero balances',
    values: holders('zero', 5, (i) => (i % 2 === 0 ? 0n : BigInt(i))),
  },
  {
    name: 'uint256 extremes',
    values: [
      [address('max/0'), ((1n << 256n) - 1n).toString()],
      [address('max/1'), '1'],
      ['0x0000000000000000000000000000000000000001', '0'],
      ['0xffffffffffffffffffffffffffffffffffffffff', (1n << 255n).toString()],
    ],
  },
  {
    name: 'mixed-case addresses',
    values: holders('case', 6).map(([a, b], i) => [
      i % 3 === 0 ? checksummed(a) : i % 3 === 1 ? '0x' + a.slice(2).toUpperCase() : a,
      b,
    ]),
  },
];

function multiproofIndices(count) {
  if (count === 1) return [[0]];
  if (count === 2) return [[0, 1], [1]];
  return [[0, count - 1], [1, 2].filter((i) => i < count), Array.from({ length: count }, (_, i) => i).filter((i) => i % 3 === 0)];
}

const out = {
  _produced_by:
    `@openzeppelin/merkle-tree ${version} StandardMerkleTree.of(values, ["address","uint256"]) ` +
    'via scripts/merkle-vectors.mjs (node); regenerate with: scripts/install-merkle-js.sh && ' +
    'node scripts/merkle-vectors.mjs > tests/data/oz-merkle-vectors.json',
  library: `@openzeppelin/merkle-tree@${version}`,
  leafEncoding: ENCODING,
  cases: cases.map(({ name, values }) => {
    const tree = StandardMerkleTree.of(values, ENCODING);
    const dump = tree.dump();
    return {
      name,
      values,
      root: tree.root,
      treeIndices: dump.values.map((v) => v.treeIndex),
      tree: dump.tree,
      proofs: values.map((_, i) => tree.getProof(i)),
      multiproofs: multiproofIndices(values.length).map((indices) => {
        const mp = tree.getMultiProof(indices);
        return { indices, leaves: mp.leaves, proof: mp.proof, proofFlags: mp.proofFlags };
      }),
    };
  }),
};

process.stdout.write(JSON.stringify(out, null, 1) + '\n');
