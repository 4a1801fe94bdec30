"""wanmock's contract: the real API's shapes and invariants, checks, strategies, plugin."""
