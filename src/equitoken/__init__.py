"""equitoken: tokenized stocks — issue, trade 24/7, settle on-chain, enforce eligibility, prove reserves."""

__version__ = "0.1.0"
