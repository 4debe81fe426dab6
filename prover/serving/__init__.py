"""Local inference server speaking SGLang /generate and /encode over transformers. No Django."""
