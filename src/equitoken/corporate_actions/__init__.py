"""Corporate actions: splits, dividends and votes as events that evolve an instrument, applied once."""
