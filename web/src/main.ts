// The transparency page: render what the service publishes, and check a holder's proof in the browser.

import { chart } from "./chart";
import {
  ChainInfo,
  Invalid,
  Outcome,
  Proof,
  checkDocument,
  checkProof,
  proofsIn,
  rootSource,
} from "./verify";

interface Listing {
  symbol: string;
  model: string;
  token: string;
  multiplier: string;
  supply: string;
  custody: string;
  in_flight: string;
  backed: boolean;
  halted: string | null;
  collateral_ratio: string | null;
}

interface AttestationLine {
  symbol: string;
  collateral_ratio: string | null;
}

interface Attestation {
  attestation_id: number;
  as_of_block: number;
  as_of: string;
  signer: string;
  registry: string | null;
  document_hash: string;
  lines: AttestationLine[];
  document: string;
}

interface Halt {
  symbol: string;
  reason: string;
}

interface Action {
  action_id: string;
  kind: string;
  symbol: string;
  ex_date: string;
  ratio: string | null;
  per_share: string | null;
  pay_date: string | null;
  state: string;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

async function get<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.code ?? response.status}: ${body.detail ?? response.statusText}`);
  return body as T;
}

function el(tag: string, text?: string, cls?: string): HTMLElement {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function row(cells: (string | Node)[], header = false): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = el(header ? "th" : "td");
    if (typeof cell === "string") td.textContent = cell;
    else td.appendChild(cell);
    tr.appendChild(td);
  }
  return tr;
}

function table(headers: string[], rows: (string | Node)[][]): HTMLTableElement {
  const t = document.createElement("table");
  const head = document.createElement("thead");
  head.appendChild(row(headers, true));
  t.appendChild(head);
  const body = document.createElement("tbody");
  for (const r of rows) body.appendChild(row(r));
  t.appendChild(body);
  return t;
}

const short = (hex: string | null): string => (hex ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : "—");

function ratioText(ratio: string | null): string {
  return ratio === null ? "no supply" : ratio;
}

let chain: ChainInfo;
let attestations: Attestation[] = [];

function renderListings(listings: Listing[]): void {
  const root = $("listings");
  root.replaceChildren();
  for (const listing of listings) {
    const card = el("article", undefined, "listing");
    card.dataset.symbol = listing.symbol;
    card.appendChild(el("h3", `${listing.symbol} · ${listing.model}`));
    const figures = table(
      ["supply (tokens)", "multiplier", "custody (shares)", "in flight (shares)", "collateral ratio now", "minting"],
      [[
        listing.supply,
        listing.multiplier,
        listing.custody,
        listing.in_flight,
        ratioText(listing.collateral_ratio),
        listing.halted ? `halted: ${listing.halted}` : "open",
      ]],
    );
    figures.querySelector("tbody td:nth-child(5)")?.setAttribute("data-ratio", listing.collateral_ratio ?? "");
    card.appendChild(figures);
    const points = attestations
      .map((a) => ({ label: `#${a.attestation_id} · block ${a.as_of_block} · ${a.as_of}`, ratio: a.lines.find((l) => l.symbol === listing.symbol)?.collateral_ratio ?? null }))
      .filter((p) => p.ratio !== null) as { label: string; ratio: string }[];
    if (listing.collateral_ratio !== null) points.push({ label: "now", ratio: listing.collateral_ratio });
    card.appendChild(chart(listing.symbol, points));
    card.appendChild(el("p", `token ${listing.token}`, "mono small"));
    root.appendChild(card);
  }
  if (!listings.length) root.appendChild(el("p", "Nothing is listed yet."));
}

function renderAttestations(): void {
  const rows = [...attestations].reverse().map((a) => [
    String(a.attestation_id),
    `${a.as_of_block}`,
    a.as_of,
    a.lines.map((l) => `${l.symbol} ${ratioText(l.collateral_ratio)}`).join(", "),
    a.signer,
    a.registry ? `registry ${a.registry}` : "not posted",
    short(a.document_hash),
  ]);
  const root = $("attestations");
  root.replaceChildren(
    attestations.length
      ? table(["#", "as of block", "as of", "collateral ratios", "signer", "posted to", "document hash"], rows)
      : el("p", "No attestation has been published yet."),
  );
  const select = $<HTMLSelectElement>("attestation");
  select.replaceChildren();
  for (const a of [...attestations].reverse()) {
    const option = el("option", `#${a.attestation_id} · block ${a.as_of_block} · ${a.as_of}`) as HTMLOptionElement;
    option.value = String(a.attestation_id);
    select.appendChild(option);
  }
}

function renderHalts(halts: Halt[]): void {
  $("halts").replaceChildren(
    halts.length ? table(["symbol", "reason"], halts.map((h) => [h.symbol, h.reason])) : el("p", "No listing is halted."),
  );
}

function renderActions(actions: Action[]): void {
  const rows = actions.map((a) => [
    a.ex_date,
    a.symbol,
    a.kind === "split" ? `split ${a.ratio}` : `dividend ${a.per_share} per share, paid ${a.pay_date}`,
    a.state,
  ]);
  $("actions").replaceChildren(
    actions.length ? table(["ex-date", "symbol", "action", "stage"], rows) : el("p", "No corporate action is announced."),
  );
}

function renderChain(): void {
  const node = chain.rpc_url ? `node ${chain.rpc_url}` : "no public node: proofs are checked against the signed attestation";
  $("chain").textContent = `chain ${chain.chain_id} · trustee ${chain.trustee} · ${node}`;
}

// -- checking a balance ----------------------------------------------------------------------------

function showResult(state: "verified" | "invalid" | "checking", headline: string, outcomes: Outcome[] = []): void {
  const result = $("result");
  result.dataset.state = state;
  result.replaceChildren(el("p", headline, "verdict"));
  for (const o of outcomes) {
    const block = el("div", undefined, o.verified ? "outcome ok" : "outcome bad");
    block.dataset.symbol = o.symbol;
    block.appendChild(el("h4", `${o.symbol}: ${o.verified ? "verified" : "invalid"}`));
    block.appendChild(el("p", o.source, "source"));
    const list = el("ul");
    for (const s of o.steps) list.appendChild(el("li", `${s.ok ? "✓" : "✗"} ${s.name}: ${s.detail}`, s.ok ? "ok" : "bad"));
    block.appendChild(list);
    result.appendChild(block);
  }
}

async function check(event?: Event): Promise<void> {
  event?.preventDefault();
  showResult("checking", "checking…");
  try {
    const pastedDocument = $<HTMLTextAreaElement>("document-json").value.trim();
    const pastedProof = $<HTMLTextAreaElement>("proof-json").value.trim();
    const chosen = attestations.find((a) => String(a.attestation_id) === $<HTMLSelectElement>("attestation").value);
    const documentText = pastedDocument || chosen?.document;
    if (!documentText) throw new Invalid("no attestation has been published yet");
    let proofs: Proof[];
    if (pastedProof) {
      let data: unknown;
      try {
        data = JSON.parse(pastedProof);
      } catch (error) {
        throw new Invalid(`the proof is not JSON (${(error as Error).message})`);
      }
      proofs = proofsIn(data);
    } else {
      const wallet = $<HTMLInputElement>("wallet").value.trim();
      if (!/^0x[0-9a-fA-F]{40}$/.test(wallet)) throw new Invalid("a wallet is 0x and 40 hex digits");
      if (!chosen) throw new Invalid("choose an attestation");
      proofs = (await get<{ proofs: Proof[] }>(`/public/attestations/${chosen.attestation_id}/proofs/${wallet}`)).proofs;
    }
    // Everything from here on is this page's own check: the server's answers are only inputs.
    const checked = checkDocument(documentText);
    const where = await rootSource(chain, checked);
    const outcomes: Outcome[] = [];
    for (const proof of proofs) outcomes.push(await checkProof(proof, checked, where));
    const bad = outcomes.find((o) => !o.verified);
    showResult(bad ? "invalid" : "verified", bad ? `invalid: ${bad.reason}` : "verified", outcomes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    showResult("invalid", `invalid: ${reason}`);
  }
}

async function main(): Promise<void> {
  const [listings, history, halts, actions, chainInfo] = await Promise.all([
    get<Listing[]>("/public/listings"),
    get<Attestation[]>("/public/attestations"),
    get<Halt[]>("/public/halts"),
    get<Action[]>("/public/corporate-actions"),
    get<ChainInfo>("/public/chain"),
  ]);
  chain = chainInfo;
  attestations = history;
  renderChain();
  renderListings(listings);
  renderAttestations();
  renderHalts(halts);
  renderActions(actions);
  $("check").addEventListener("submit", check);
  document.body.dataset.rendered = "true";
  performance.mark("rendered");
}

main().catch((error) => {
  $("failure").textContent = `The page could not load what the service publishes: ${error.message}`;
  document.body.dataset.rendered = "failed";
});
