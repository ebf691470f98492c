// The checks a holder runs in the browser, independently of the server that served the page:
// the trustee's signature over the attestation document's exact signed bytes (EIP-191 personal_sign,
// recovered with ethers), the root against the one posted in ReserveRegistry (read over the node's
// JSON-RPC) or, with no node, against the signed attestation, and the leaf and proof against that root
// (OpenZeppelin's own StandardMerkleTree). Nothing here trusts a figure the server computed.

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Interface, getAddress, keccak256, toUtf8Bytes, verifyMessage } from "ethers";

export const SCHEME = "eip191-personal-sign";
export const LEAF_ENCODING = ["address", "uint256"];
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const RATIO_DECIMALS = 9;
const MAX_HISTORY = 256; // postings looked back through for an older attestation

export interface Proof {
  symbol: string;
  holder: string;
  balance: string;
  root: string;
  proof: string[];
}

export interface ChainInfo {
  chain_id: number;
  trustee: string;
  rpc_url: string | null;
}

export interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Outcome {
  symbol: string;
  verified: boolean;
  reason: string;
  source: string;
  steps: Step[];
}

export class Invalid extends Error {}

// -- the document's canonical bytes --------------------------------------------------------------

/** Spell `value` as the trustee signed it: sorted keys, no whitespace, ASCII only (Python's json.dumps). */
export function canonical(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    // Integers only: a float where a figure belongs is refused, as the server refuses it.
    if (!Number.isSafeInteger(value)) throw new Invalid(`${value} is not an integer the document may hold`);
    return String(value);
  }
  if (typeof value === "string") {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) =>
      c === "\u007f" ? c : "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
    );
  }
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => canonical(key) + ":" + canonical((value as Record<string, unknown>)[key]));
    return "{" + entries.join(",") + "}";
  }
  throw new Invalid(`a document cannot hold ${typeof value}`);
}

// -- decimals, exactly (never a float) -----------------------------------------------------------

interface Dec {
  n: bigint;
  e: number; // value = n / 10^e
}

function dec(text: string, what: string): Dec {
  if (typeof text !== "string" || !/^[0-9]+(\.[0-9]+)?$/.test(text)) throw new Invalid(`${what} ${text} is not a decimal`);
  const [whole, frac = ""] = text.split(".");
  return { n: BigInt(whole + frac), e: frac.length };
}

function spelled(n: bigint, e: number): string {
  // The canonical spelling: no trailing zeros, no point for a whole number (canonical_decimal).
  let digits = n.toString().padStart(e + 1, "0");
  let whole = digits.slice(0, digits.length - e);
  let frac = digits.slice(digits.length - e).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

/** Return (custody + in flight) / (supply × multiplier), cut to 9 places; null with no supply. */
export function collateralRatio(supply: string, multiplier: string, custody: string, inFlight: string): string | null {
  const s = dec(supply, "supply"), m = dec(multiplier, "multiplier");
  const c = dec(custody, "custody"), f = dec(inFlight, "in flight");
  const eb = Math.max(c.e, f.e);
  const backing = c.n * 10n ** BigInt(eb - c.e) + f.n * 10n ** BigInt(eb - f.e);
  const owed = s.n * m.n;
  const eo = s.e + m.e;
  if (owed === 0n) return null;
  const scaled = (backing * 10n ** BigInt(eo + RATIO_DECIMALS)) / (owed * 10n ** BigInt(eb));
  return spelled(scaled, RATIO_DECIMALS);
}

// -- the signature --------------------------------------------------------------------------------

export interface Line {
  symbol: string;
  holders_root: string;
  supply_tokens: string;
  multiplier: string;
  custody_shares: string;
  in_flight_shares: string;
  collateral_ratio: string | null;
}

export interface Checked {
  signer: string;
  chainId: number;
  registry: string | null;
  asOfBlock: number;
  lines: Line[];
  hash: string;
}

/** Check a published document and return what it attests (throws Invalid with the reason). */
export function checkDocument(documentText: string): Checked {
  const text = documentText.replace(/\n+$/, "");
  let data: any;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Invalid(`the document is not JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || data.scheme !== SCHEME) throw new Invalid(`the document's scheme is not ${SCHEME}`);
  if (canonical(data) !== text) throw new Invalid("the document is not in canonical form: its bytes are not the ones signed");
  const attestation = data.attestation;
  if (typeof data.signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(data.signature)) throw new Invalid("the signature is not 65 bytes of hex");
  if (BigInt("0x" + data.signature.slice(66, 130)) > HALF_ORDER) throw new Invalid("the signature is not in low-s form (EIP-2)");
  const message = canonical(attestation);
  let recovered: string;
  try {
    recovered = verifyMessage(toUtf8Bytes(message), data.signature);
  } catch (error) {
    throw new Invalid(`the signature does not recover a signer (${(error as Error).message})`);
  }
  const named = getAddress(data.signer);
  if (recovered !== named) throw new Invalid(`signature by ${recovered}, but the document names ${named} as its signer`);
  for (const line of attestation.lines as Line[]) {
    const ratio = collateralRatio(line.supply_tokens, line.multiplier, line.custody_shares, line.in_flight_shares);
    if (ratio !== line.collateral_ratio) throw new Invalid(`the stated ratio of ${line.symbol} (${line.collateral_ratio}) does not follow from its figures (${ratio})`);
  }
  return {
    signer: recovered,
    chainId: attestation.chain_id,
    registry: attestation.registry === null ? null : getAddress(attestation.registry),
    asOfBlock: attestation.as_of_block,
    lines: attestation.lines,
    hash: keccak256(toUtf8Bytes(text)),
  };
}

// -- the registry, over the node's JSON-RPC ------------------------------------------------------

const REGISTRY = new Interface([
  "function trustee() view returns (address)",
  "function postings(bytes32) view returns (uint256)",
  "function latest(bytes32) view returns ((uint256 asOfBlock, bytes32 holdersRoot, bytes32 documentHash, uint256 postedAt))",
  "function attestationAt(bytes32, uint256) view returns ((uint256 asOfBlock, bytes32 holdersRoot, bytes32 documentHash, uint256 postedAt))",
]);

export interface Posting {
  asOfBlock: number;
  root: string;
  documentHash: string;
}

/** A ReserveRegistry read through a node, at one block. */
export class Registry {
  private id = 0;
  constructor(readonly url: string, readonly address: string, public block = "latest") {}

  async rpc(method: string, params: unknown[]): Promise<any> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
    });
    const reply = await response.json();
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result;
  }

  async call(name: string, args: unknown[]): Promise<any> {
    const data = REGISTRY.encodeFunctionData(name, args);
    const result = await this.rpc("eth_call", [{ to: this.address, data }, this.block]);
    return REGISTRY.decodeFunctionResult(name, result);
  }

  async hasCode(): Promise<boolean> {
    const code = await this.rpc("eth_getCode", [this.address, this.block]);
    return typeof code === "string" && code !== "0x";
  }

  async trustee(): Promise<string> {
    return getAddress((await this.call("trustee", []))[0]);
  }

  /** Return the posting of `symbol` as of `asOfBlock` (the latest, else looked up in its history). */
  async posting(symbol: string, asOfBlock: number): Promise<Posting | null> {
    const key = symbolBytes32(symbol);
    const shape = (found: any): Posting => ({
      asOfBlock: Number(found.asOfBlock),
      root: found.holdersRoot.toLowerCase(),
      documentHash: found.documentHash.toLowerCase(),
    });
    const [latest] = await this.call("latest", [key]);
    if (latest.postedAt === 0n) return null;
    if (Number(latest.asOfBlock) === asOfBlock) return shape(latest);
    const count = Number((await this.call("postings", [key]))[0]);
    for (let index = count - 1; index >= Math.max(0, count - MAX_HISTORY); index--) {
      const [older] = await this.call("attestationAt", [key, index]);
      if (Number(older.asOfBlock) === asOfBlock) return shape(older);
      if (Number(older.asOfBlock) < asOfBlock) break; // postings only move forward
    }
    return null;
  }
}

export function symbolBytes32(symbol: string): string {
  const hex = Array.from(toUtf8Bytes(symbol), (b) => b.toString(16).padStart(2, "0")).join("");
  return "0x" + hex.padEnd(64, "0");
}

export interface RootSource {
  registry: Registry | null;
  source: string;
  trustee: string;
  block: number | null;
}

/** Decide where roots are read: the node when one is published and of the document's chain, else the attestation. */
export async function rootSource(chain: ChainInfo, checked: Checked): Promise<RootSource> {
  const fallback = (why: string): RootSource => ({
    registry: null,
    source: `no node reachable (${why}): root from the attestation`,
    trustee: getAddress(chain.trustee),
    block: null,
  });
  if (!chain.rpc_url) return fallback("the service publishes none");
  if (checked.registry === null) return fallback("the attestation names no registry");
  const registry = new Registry(chain.rpc_url, checked.registry);
  try {
    const id = Number(BigInt(await registry.rpc("eth_chainId", [])));
    if (id !== checked.chainId) return fallback(`the node is chain ${id}, the attestation is of chain ${checked.chainId}`);
    const block = Number(BigInt(await registry.rpc("eth_blockNumber", [])));
    registry.block = "0x" + block.toString(16);
    if (!(await registry.hasCode())) throw new Invalid(`there is no contract at the registry ${checked.registry} on chain ${id}`);
    return { registry, source: `root read from chain at block ${block}`, trustee: await registry.trustee(), block };
  } catch (error) {
    if (error instanceof Invalid) throw error;
    return fallback(`${chain.rpc_url}: ${(error as Error).message}`);
  }
}

// -- one proof ------------------------------------------------------------------------------------

/** Check one holder's proof against the signed document and the root posted for it. */
export async function checkProof(proof: Proof, checked: Checked, where: RootSource): Promise<Outcome> {
  const steps: Step[] = [];
  const outcome = (verified: boolean, reason: string): Outcome => ({ symbol: proof.symbol, verified, reason, source: where.source, steps });
  const fail = (name: string, reason: string): Outcome => {
    steps.push({ name, ok: false, detail: reason });
    return outcome(false, reason);
  };
  // The signature: the document's signer must be the trustee (the registry's, when read on chain).
  if (checked.signer !== where.trustee) return fail("signature", `signature by ${checked.signer} not the trustee ${where.trustee}`);
  steps.push({ name: "signature", ok: true, detail: `signed by the trustee ${where.trustee}` });
  const line = checked.lines.find((l) => l.symbol === proof.symbol);
  if (!line) return fail("root", `the attestation has no line for ${proof.symbol}`);
  let root = line.holders_root.toLowerCase();
  if (where.registry !== null) {
    const posted = await where.registry.posting(proof.symbol, checked.asOfBlock);
    if (posted === null) return fail("root", `root differs from the one posted: the registry holds no posting of ${proof.symbol} as of block ${checked.asOfBlock}`);
    if (posted.root !== root) return fail("root", `root differs from the one posted: the attestation says ${root}, the registry ${posted.root}`);
    if (posted.documentHash !== checked.hash.toLowerCase()) return fail("root", `the document's hash ${checked.hash} differs from the one posted (${posted.documentHash})`);
    root = posted.root;
  }
  if (typeof proof.root !== "string" || proof.root.toLowerCase() !== root) return fail("root", `root differs from the one posted: the proof is for ${proof.root}, the root is ${root}`);
  steps.push({ name: "root", ok: true, detail: `${root} (${where.source})` });
  let included = false;
  try {
    included = StandardMerkleTree.verify(root, LEAF_ENCODING, [proof.holder, proof.balance], proof.proof);
  } catch (error) {
    return fail("proof", `proof does not match root (${(error as Error).message})`);
  }
  if (!included) return fail("proof", `proof does not match root: ${proof.holder} holding ${proof.balance} is not a leaf of ${root}`);
  steps.push({ name: "proof", ok: true, detail: `${proof.holder} holds ${proof.balance} base units in ${root}` });
  return outcome(true, "verified");
}

/** Read the proofs a pasted JSON holds: the service's answer, one proof, or a list of them. */
export function proofsIn(data: any): Proof[] {
  const list = Array.isArray(data) ? data : Array.isArray(data?.proofs) ? data.proofs : [data];
  for (const p of list) {
    if (typeof p?.symbol !== "string" || typeof p?.holder !== "string" || !Array.isArray(p?.proof)) throw new Invalid("the proof JSON holds no proof (symbol, holder, balance, root, proof)");
    p.balance = String(p.balance);
  }
  return list;
}
