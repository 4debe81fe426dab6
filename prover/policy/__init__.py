"""SGLang-compatible policy client, prompt formats and tactic extraction. No Django."""
