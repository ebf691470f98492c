# pragma version ~=0.4.3
"""
@title ReserveRegistry
@custom:contract-name ReserveRegistry
@license Apache-2.0
@author equitoken contributors
@notice Where a trustee publishes proof-of-reserves attestations: per symbol, the block they are as of,
        the Merkle root of holder balances and the hash of the signed attestation document. Anyone can
        read the latest one and check a holder's inclusion proof against its root on chain.
@dev Leaves use the OpenZeppelin StandardMerkleTree encoding for (address, uint256):
     keccak256(bytes.concat(keccak256(abi.encode(holder, balance)))); inner nodes hash the sorted pair,
     as OpenZeppelin's MerkleProof does, so proofs built off chain for OpenZeppelin's libraries verify
     here unchanged. Attestations only move forward: a later post must be as of a later block.
"""


# @notice The trustee published an attestation of `symbol` as of block `asOfBlock`.
# @param symbol The symbol, left-aligned ASCII in 32 bytes.
# @param asOfBlock The block the balances were read at.
# @param holdersRoot The Merkle root of holder balances.
# @param documentHash keccak256 of the signed attestation document.
# @param trustee The publishing trustee.
event AttestationPosted:
    symbol: indexed(bytes32)
    asOfBlock: uint256
    holdersRoot: bytes32
    documentHash: bytes32
    trustee: indexed(address)


# @notice The trustee proposed `proposedTrustee` to take its role (zero: the proposal was withdrawn).
# @param trustee The trustee in force.
# @param proposedTrustee The proposed successor.
event TrusteeProposed:
    trustee: indexed(address)
    proposedTrustee: indexed(address)


# @notice The proposed trustee accepted the role (a key rotation, complete).
# @param previousTrustee The old trustee.
# @param newTrustee The new trustee.
event TrusteeChanged:
    previousTrustee: indexed(address)
    newTrustee: indexed(address)


struct Attestation:
    asOfBlock: uint256
    holdersRoot: bytes32
    documentHash: bytes32
    postedAt: uint256


# A tree of 2^64 leaves is deeper than any register; longer proofs are refused.
MAX_PROOF: constant(uint256) = 64

trustee: public(address)
pendingTrustee: public(address)
postings: public(HashMap[bytes32, uint256])
_latest: HashMap[bytes32, Attestation]
_history: HashMap[bytes32, HashMap[uint256, Attestation]]


@deploy
def __init__(trustee_: address):
    """
    @notice Create the registry for one trustee.
    @param trustee_ The only address that may post attestations.
    """
    assert trustee_ != empty(address), "RESERVES_ZERO_TRUSTEE"
    self.trustee = trustee_


@external
def post(symbol: bytes32, asOfBlock: uint256, holdersRoot: bytes32, documentHash: bytes32):
    """
    @notice Publish the attestation of `symbol` as of `asOfBlock`.
    @param symbol The symbol, left-aligned ASCII in 32 bytes.
    @param asOfBlock The block the balances were read at; later than the previous post's.
    @param holdersRoot The Merkle root of holder balances.
    @param documentHash keccak256 of the signed attestation document.
    """
    assert msg.sender == self.trustee, "RESERVES_NOT_THE_TRUSTEE"
    previous: Attestation = self._latest[symbol]
    assert self.postings[symbol] == 0 or asOfBlock > previous.asOfBlock, "RESERVES_NOT_NEWER"
    assert asOfBlock <= block.number, "RESERVES_BLOCK_IN_THE_FUTURE"
    posted: Attestation = Attestation(
        asOfBlock=asOfBlock, holdersRoot=holdersRoot, documentHash=documentHash, postedAt=block.timestamp
    )
    self._latest[symbol] = posted
    self._history[symbol][self.postings[symbol]] = posted  # older proofs stay checkable
    self.postings[symbol] += 1
    log AttestationPosted(
        symbol=symbol,
        asOfBlock=asOfBlock,
        holdersRoot=holdersRoot,
        documentHash=documentHash,
        trustee=msg.sender,
    )


@external
def proposeTrustee(newTrustee: address):
    """
    @notice Propose `newTrustee` for the trustee role (rotate the key); only the current trustee may.
            The current trustee stays in force until the proposed one accepts, so a mistyped address
            loses nothing; a new proposal replaces the last, and the zero address withdraws it.
    @param newTrustee The proposed trustee (zero: withdraw the proposal).
    """
    assert msg.sender == self.trustee, "RESERVES_NOT_THE_TRUSTEE"
    self.pendingTrustee = newTrustee
    log TrusteeProposed(trustee=self.trustee, proposedTrustee=newTrustee)


@external
def acceptTrustee():
    """
    @notice Take the trustee role as the proposed trustee (proving the new key can sign).
    """
    assert self.pendingTrustee != empty(address), "RESERVES_NO_PROPOSED_TRUSTEE"
    assert msg.sender == self.pendingTrustee, "RESERVES_NOT_THE_PROPOSED_TRUSTEE"
    log TrusteeChanged(previousTrustee=self.trustee, newTrustee=msg.sender)
    self.trustee = msg.sender
    self.pendingTrustee = empty(address)


@view
@external
def attestationAt(symbol: bytes32, index: uint256) -> Attestation:
    """
    @notice Return the `index`-th attestation ever posted for `symbol` (0 is the first).
    @param symbol The symbol, left-aligned ASCII in 32 bytes.
    @param index Which posting.
    @return The block, root, document hash and posting time.
    """
    assert index < self.postings[symbol], "RESERVES_NO_SUCH_ATTESTATION"
    return self._history[symbol][index]


@view
@external
def latest(symbol: bytes32) -> Attestation:
    """
    @notice Return the latest attestation of `symbol` (all zero when none was posted).
    @param symbol The symbol, left-aligned ASCII in 32 bytes.
    @return The block, root, document hash and posting time.
    """
    return self._latest[symbol]


@pure
@internal
def _leaf(holder: address, balance: uint256) -> bytes32:
    return keccak256(keccak256(abi_encode(holder, balance)))


@pure
@internal
def _pair(a: bytes32, b: bytes32) -> bytes32:
    if convert(a, uint256) < convert(b, uint256):
        return keccak256(concat(a, b))
    return keccak256(concat(b, a))


@view
@internal
def _included(root: bytes32, holder: address, balance: uint256, proof: DynArray[bytes32, MAX_PROOF]) -> bool:
    node: bytes32 = self._leaf(holder, balance)
    for sibling: bytes32 in proof:
        node = self._pair(node, sibling)
    return root != empty(bytes32) and node == root


@view
@external
def verifyHolder(
    symbol: bytes32, holder: address, balance: uint256, proof: DynArray[bytes32, MAX_PROOF]
) -> bool:
    """
    @notice Tell whether (`holder`, `balance`) is a leaf of the latest attested root of `symbol`.
    @param symbol The symbol, left-aligned ASCII in 32 bytes.
    @param holder The holder's wallet.
    @param balance The raw balance in base units, as attested.
    @param proof The sibling hashes from the leaf up (OpenZeppelin's proof format).
    @return True when the proof leads to the attested root.
    """
    return self._included(self._latest[symbol].holdersRoot, holder, balance, proof)


@view
@external
def verifyHolderAt(
    symbol: bytes32, index: uint256, holder: address, balance: uint256, proof: DynArray[bytes32, MAX_PROOF]
) -> bool:
    """
    @notice Tell whether (`holder`, `balance`) is a leaf of the `index`-th attested root of `symbol`.
    @param symbol The symbol, left-aligned ASCII in 32 bytes.
    @param index Which posting (0 is the first).
    @param holder The holder's wallet.
    @param balance The raw balance in base units, as attested.
    @param proof The sibling hashes from the leaf up (OpenZeppelin's proof format).
    @return True when the proof leads to that attestation's root.
    """
    assert index < self.postings[symbol], "RESERVES_NO_SUCH_ATTESTATION"
    return self._included(self._history[symbol][index].holdersRoot, holder, balance, proof)
