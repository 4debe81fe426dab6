"""Dataset parsing (benchmark and proof formats), the sorry filter, theorem-name splits, SFT formatting. No Django."""
