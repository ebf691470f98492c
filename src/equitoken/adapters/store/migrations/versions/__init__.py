"""Schema revisions, applied in order by ``SqlStore.open``."""
