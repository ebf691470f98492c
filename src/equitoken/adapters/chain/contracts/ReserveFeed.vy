# pragma version ~=0.4.3
"""
@title ReserveFeed
@custom:contract-name ReserveFeed
@license Apache-2.0
@author equitoken contributors
@notice One listing's proof-of-reserve feed in Chainlink's AggregatorV3Interface shape
        (`latestRoundData`, `getRoundData`, `decimals`, `description`, `version`). Each round is one
        attestation: the answer is the listing's COLLATERAL RATIO, (custody + in flight) / (supply x
        multiplier), with 18 decimals (1e18 = 1.0, fully backed), and `updatedAt` is the block time the
        trustee posted it. A lending protocol reads it as it reads any Chainlink feed; the listing's
        SecurityToken reads it to refuse mints when the ratio is below 1.0 or the round is older than
        its heartbeat.
@dev Only the trustee (the attestation poster) posts; rounds are numbered 1, 2, 3... (roundId never
     decreases, never repeats) and `answeredInRound` equals `roundId`. `getRoundData` of a round never
     posted reverts (RESERVES_NO_SUCH_ROUND), as Chainlink's aggregators do; so does `latestRoundData`
     while there is no round yet: a consumer never reads a zero answer as data. The trustee key rotates
     in two steps, as the ReserveRegistry's does.
"""

DECIMALS: constant(uint8) = 18
VERSION: constant(uint256) = 1


# @notice The trustee posted round `roundId` with answer `answer` (collateral ratio, 18 decimals).
# @param current The answer.
# @param roundId The round.
# @param updatedAt The block time it was posted at.
event AnswerUpdated:
    current: indexed(int256)
    roundId: indexed(uint256)
    updatedAt: uint256


# @notice Round `roundId` started (posted in the same transaction as its answer).
# @param roundId The round.
# @param startedBy The trustee.
# @param startedAt The block time.
event NewRound:
    roundId: indexed(uint256)
    startedBy: indexed(address)
    startedAt: uint256


# @notice The trustee proposed `proposedTrustee` (zero: the proposal was withdrawn).
# @param trustee The trustee in force.
# @param proposedTrustee The proposed successor.
event TrusteeProposed:
    trustee: indexed(address)
    proposedTrustee: indexed(address)


# @notice The proposed trustee accepted the role.
# @param previousTrustee The old trustee.
# @param newTrustee The new trustee.
event TrusteeChanged:
    previousTrustee: indexed(address)
    newTrustee: indexed(address)


struct Round:
    answer: int256
    startedAt: uint256
    updatedAt: uint256
    asOfBlock: uint256


trustee: public(address)
pendingTrustee: public(address)
latestRound: public(uint256)
_rounds: HashMap[uint256, Round]
_description: String[64]


@deploy
def __init__(trustee_: address, description_: String[64]):
    """
    @notice Create the feed of one listing; no round yet.
    @param trustee_ The only address that may post rounds (the attestation poster).
    @param description_ What the feed reports, e.g. "AAPL collateral ratio".
    """
    assert trustee_ != empty(address), "RESERVES_ZERO_TRUSTEE"
    self.trustee = trustee_
    self._description = description_


@external
def postRound(answer: int256, asOfBlock: uint256) -> uint256:
    """
    @notice Publish the collateral ratio of one attestation as the next round.
    @param answer The ratio, 18 decimals (1e18 = fully backed); never negative.
    @param asOfBlock The block the attestation is as of; later than the previous round's, not ahead.
    @return The new round's id.
    """
    assert msg.sender == self.trustee, "RESERVES_NOT_THE_TRUSTEE"
    assert answer >= 0, "RESERVES_NEGATIVE_ANSWER"
    assert asOfBlock <= block.number, "RESERVES_BLOCK_IN_THE_FUTURE"
    previous: uint256 = self.latestRound
    assert previous == 0 or asOfBlock > self._rounds[previous].asOfBlock, "RESERVES_NOT_NEWER"
    round_id: uint256 = previous + 1
    self._rounds[round_id] = Round(
        answer=answer, startedAt=block.timestamp, updatedAt=block.timestamp, asOfBlock=asOfBlock
    )
    self.latestRound = round_id
    log NewRound(roundId=round_id, startedBy=msg.sender, startedAt=block.timestamp)
    log AnswerUpdated(current=answer, roundId=round_id, updatedAt=block.timestamp)
    return round_id


@external
def proposeTrustee(newTrustee: address):
    """
    @notice Propose `newTrustee` for the poster role (only the trustee); zero withdraws the proposal.
    @param newTrustee The proposed trustee.
    """
    assert msg.sender == self.trustee, "RESERVES_NOT_THE_TRUSTEE"
    self.pendingTrustee = newTrustee
    log TrusteeProposed(trustee=self.trustee, proposedTrustee=newTrustee)


@external
def acceptTrustee():
    """
    @notice Take the poster role as the proposed trustee.
    """
    assert self.pendingTrustee != empty(address), "RESERVES_NO_PROPOSED_TRUSTEE"
    assert msg.sender == self.pendingTrustee, "RESERVES_NOT_THE_PROPOSED_TRUSTEE"
    log TrusteeChanged(previousTrustee=self.trustee, newTrustee=msg.sender)
    self.trustee = msg.sender
    self.pendingTrustee = empty(address)


@view
@internal
def _round(round_id: uint256) -> (uint80, int256, uint256, uint256, uint80):
    assert round_id != 0 and round_id <= self.latestRound, "RESERVES_NO_SUCH_ROUND"
    r: Round = self._rounds[round_id]
    return convert(round_id, uint80), r.answer, r.startedAt, r.updatedAt, convert(round_id, uint80)


@view
@external
def getRoundData(_roundId: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice Return round `_roundId` (AggregatorV3Interface); a round never posted reverts.
    @param _roundId The round (1 is the first).
    @return roundId, answer (ratio, 18 decimals), startedAt, updatedAt, answeredInRound.
    """
    return self._round(convert(_roundId, uint256))


@view
@external
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice Return the latest round (AggregatorV3Interface); reverts while no round was posted.
    @return roundId, answer (ratio, 18 decimals), startedAt, updatedAt, answeredInRound.
    """
    return self._round(self.latestRound)


@view
@external
def roundAsOfBlock(_roundId: uint80) -> uint256:
    """
    @notice Return the block the attestation behind round `_roundId` is as of.
    @param _roundId The round.
    @return The attestation's as-of block.
    """
    assert _roundId != 0 and convert(_roundId, uint256) <= self.latestRound, "RESERVES_NO_SUCH_ROUND"
    return self._rounds[convert(_roundId, uint256)].asOfBlock


@view
@external
def decimals() -> uint8:
    """
    @notice The answer's decimals (AggregatorV3Interface): 18, so 1e18 is a ratio of 1.0.
    @return 18.
    """
    return DECIMALS


@view
@external
def description() -> String[64]:
    """
    @notice What the feed reports (AggregatorV3Interface).
    @return The description.
    """
    return self._description


@view
@external
def version() -> uint256:
    """
    @notice The feed's interface version (AggregatorV3Interface).
    @return 1.
    """
    return VERSION
