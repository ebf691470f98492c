// Time OpenZeppelin's StandardMerkleTree.of on a holders CSV (header holder,balance) and print one JSON
// line: {"library", "holders", "seconds", "root"}. The reserves bench runs this beside our Python tree on
// the same file, in the same run, and compares roots and times.
//
//   node --max-old-space-size=8192 scripts/merkle-bench.mjs HOLDERS.csv
//
// Reading and splitting the file is outside the clock; hashing, sorting and building the tree are inside.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = process.env.MERKLE_JS_PREFIX ?? join(root, '.tools', 'merkle-js');
const require = createRequire(join(prefix, 'node_modules', 'noop.js'));
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const version = require('@openzeppelin/merkle-tree/package.json').version;

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: merkle-bench.mjs HOLDERS.csv\n');
  process.exit(2);
}
const lines = readFileSync(file, 'utf8').split('\n');
if (lines[0].trim() !== 'holder,balance') {
  process.stderr.write('merkle-bench: the header must be holder,balance\n');
  process.exit(2);
}
const values = [];
for (let i = 1; i < lines.length; i++) {
  if (lines[i] === '') continue;
  const [holder, balance] = lines[i].split(',');
  values.push([holder, balance]);
}

const start = process.hrtime.bigint();
const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;

process.stdout.write(
  JSON.stringify({ library: `@openzeppelin/merkle-tree@${version}`, holders: values.length, seconds, root: tree.root }) +
    '\n',
);
