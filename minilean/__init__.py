"""minilean: a stand-in Lean verifier that speaks the Pantograph JSON-lines protocol (run as `python -m minilean`)."""
