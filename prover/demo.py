"""The demo eval that the main job launches on the embedded stack: a handful of easy miniF2F-valid problems,
searched best-first by the local SmolLM2 server with minilean as the verifier.

SmolLM2-135M has never seen Lean, so its own tactics rarely work; the probe tactics (fixed tactics tried after
the policy's candidates, docs/search.md#probe-tactics) are what close these goals. The demo shows the machinery
running end to end, live, in a few minutes on a laptop CPU; it is not a measure of the model.
"""

DEMO_THEOREMS = [
    "mathd_algebra_10", "mathd_algebra_104", "mathd_algebra_109", "mathd_algebra_455", "mathd_algebra_462",
    "mathd_algebra_51", "amc12a_2008_p2", "mathd_numbertheory_102", "mathd_numbertheory_132", "mathd_numbertheory_136",
]

DEMO_CONFIG = {
    "dataset": "minif2f-valid",
    "theorems": DEMO_THEOREMS,
    "chunk_size": 2,
    "search": {
        "strategy": "best_first",
        "num_candidates": 4,
        "max_tactic_tokens": 32,
        "max_nodes": 12,
        "timeout_s": 240,
        "probe_tactics": ["intros", "norm_num", "linarith", "nlinarith", "positivity", "omega"],
    },
}
