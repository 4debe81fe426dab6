"""Golden tests for tactic extraction: each edge case of docs/policy.md#whole-proof-splitting and of BurnQED's
test suite, with the exact expected tactics."""

import pytest

from prover.policy.extraction import extract_first_tactic, extract_proof_tactics

FIRST_TACTIC_CASES = [
    pytest.param("intro h", "intro h", id="plain"),
    pytest.param("  simp  ", "simp", id="surrounding-space"),
    pytest.param(
        "simp_all [lemma1, lemma2,\n  lemma3, lemma4]",
        "simp_all [lemma1, lemma2,\nlemma3, lemma4]",
        id="unclosed-bracket-continues",
    ),
    pytest.param(
        " have h := by\n     exact foo\n   ring", "have h := by\nexact foo", id="by-body-then-sibling"
    ),
    pytest.param("intro h\nexact h", "intro h", id="two-siblings"),
    pytest.param("```lean4\nintro h\nexact h\n```", "intro h", id="code-fence"),
    pytest.param("-- We introduce h\nintro h\nexact h", "intro h", id="line-comment"),
    pytest.param(
        "rw [show (a + b) = c from\n  by ring]", "rw [show (a + b) = c from\nby ring]", id="nested-bracket"
    ),
    pytest.param("simp [lemma1, lemma2]\nexact h", "simp [lemma1, lemma2]", id="balanced-bracket-one-line"),
    pytest.param(
        " have h₃ : 0 < x := by\n     nlinarith\n   have h₄ : x ≤ 80 := by\n     nlinarith\n   interval_cases x <;> omega",
        "have h₃ : 0 < x := by\nnlinarith",
        id="deepseek-real-output",
    ),
    pytest.param(
        " have h₃ : 0 < x := by linarith\n   interval_cases x <;> omega",
        "have h₃ : 0 < x := by linarith",
        id="inline-by",
    ),
    pytest.param(
        " intro u v S h₀ h₁ h₂\n   have h₃ : u = 34 := by\n     omega",
        "intro u v S h₀ h₁ h₂",
        id="intro-chain",
    ),
    pytest.param("", "", id="empty"),
    pytest.param("  \n  ", "", id="blank"),
    pytest.param("/- some reasoning -/\nomega", "omega", id="block-comment-one-line"),
    pytest.param("/- some\n   reasoning -/\nomega", "omega", id="block-comment-multi-line"),
    pytest.param("/- tactic state:\nx : ℕ\n⊢ x = x\n-/\nrfl", "rfl", id="echoed-state-comment"),
    pytest.param("· intro h\nexact h", "intro h", id="focus-dot"),
    pytest.param("·\nintro h", "intro h", id="bare-focus-dot"),
    pytest.param("∙ simp", "simp", id="bullet-operator"),
    pytest.param(
        "case inl h =>\n  simp\n  linarith\ncase inr h => simp",
        "case inl h =>\nsimp\nlinarith",
        id="case-block",
    ),
    pytest.param(
        "exact ⟨by norm_num,\n  by linarith⟩\nsimp", "exact ⟨by norm_num,\nby linarith⟩", id="angle-brackets"
    ),
    pytest.param(
        "nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]\n\nlinarith",
        "nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]",
        id="stop-at-blank",
    ),
    pytest.param("--only a comment\n/- and another -/", "", id="only-comments"),
    pytest.param("```\nThe proof is complete.", "", id="closing-fence-only"),
]


@pytest.mark.parametrize(("completion", "expected"), FIRST_TACTIC_CASES)
def test_extract_first_tactic(completion: str, expected: str) -> None:
    assert extract_first_tactic(completion) == expected


PROOF_CASES = [
    pytest.param("intro h\nexact h", ["intro h", "exact h"], id="simple-chain"),
    pytest.param(
        "  intro h\n  have h₂ := by\n    nlinarith\n  exact h₂",
        ["intro h", "have h₂ := by nlinarith", "exact h₂"],
        id="one-line-by-body-inlined",
    ),
    pytest.param(
        "  calc x + y\n    = y + x := by ring\n  _ = z := by simp",
        ["calc x + y\n= y + x := by ring\n_ = z := by simp"],
        id="calc",
    ),
    pytest.param(
        "  calc 1 + 1 = 2 := by norm_num\n  _ = 2 := by rfl",
        ["calc 1 + 1 = 2 := by norm_num\n_ = 2 := by rfl"],
        id="calc-underscore-steps",
    ),
    pytest.param(
        "  conv =>\n    rw [foo]\n  simp", ["conv =>\n  rw [foo]", "simp"], id="conv-block-not-inlined"
    ),
    pytest.param(
        "  match h with\n  | inl a => exact a\n  | inr b => exact b",
        ["match h with\n  | inl a => exact a\n  | inr b => exact b"],
        id="match-arms",
    ),
    pytest.param("```lean4\nintro h\nsimp\nring\n```", ["intro h", "simp", "ring"], id="code-fence"),
    pytest.param("theorem foo : True := by\n  trivial", ["trivial"], id="declaration"),
    pytest.param("theorem foo : True := by trivial", ["trivial"], id="declaration-inline-tactic"),
    pytest.param("theorem foo : True := by", [], id="declaration-without-proof"),
    pytest.param(
        "theorem foo (x : ℕ)\n    (h : x = 1) : x = 1 := by\n  exact h",
        ["exact h"],
        id="declaration-wrapped-header",
    ),
    pytest.param("-- reason\nintro h\n-- step\nsimp", ["intro h", "simp"], id="line-comments"),
    pytest.param(
        "intro h\n/- a long\n   explanation -/\nsimp", ["intro h", "simp"], id="multi-line-block-comment"
    ),
    pytest.param(
        "simp [lemma1, lemma2,\n  lemma3, lemma4]",
        ["simp [lemma1, lemma2,\nlemma3, lemma4]"],
        id="unclosed-brackets",
    ),
    pytest.param("", [], id="empty"),
    pytest.param("  \n  ", [], id="blank"),
    pytest.param("omega", ["omega"], id="single"),
    pytest.param(
        "  have h₃ : 0 < x := by\n    nlinarith\n  have h₄ : x ≤ 80 := by\n    nlinarith\n  interval_cases x <;> omega",
        ["have h₃ : 0 < x := by nlinarith", "have h₄ : x ≤ 80 := by nlinarith", "interval_cases x <;> omega"],
        id="deepseek-real-output",
    ),
    pytest.param(
        "intro x y h₀ h₁ h₂\n  have h₃ : 0 < x := by\n    linarith\n  have h₄ : x ≤ 80 := by\n    nlinarith\n  interval_cases x <;> omega",
        [
            "intro x y h₀ h₁ h₂",
            "have h₃ : 0 < x := by linarith",
            "have h₄ : x ≤ 80 := by nlinarith",
            "interval_cases x <;> omega",
        ],
        id="primed-prompt-indent",
    ),
    pytest.param(
        "intro x y h₀ h₁ h₂\nhave h₃ : 0 < x := by linarith\nhave h₄ : x ≤ 80 := by nlinarith\ninterval_cases x <;> omega",
        [
            "intro x y h₀ h₁ h₂",
            "have h₃ : 0 < x := by linarith",
            "have h₄ : x ≤ 80 := by nlinarith",
            "interval_cases x <;> omega",
        ],
        id="flat-inline-by",
    ),
    pytest.param(
        "have h : P := by\n  intro x\n  exact x\nexact h",
        ["have h : P", "intro x", "exact x", "exact h"],
        id="typed-have-decomposed",
    ),
    pytest.param(
        "  have h := by\n    rw [foo]\n    simp\n  exact h",
        ["have h := by\n  rw [foo]\n  simp", "exact h"],
        id="untyped-have-multi-line-kept",
    ),
    pytest.param(
        "    have h₃ : u = 34 := by\n      have h₃₁ : 34 ∈ S := by\n        rw [h₀]\n        norm_num [Nat.ModEq]\n      exact h₁.unique h₃₂\n    simp",
        [
            "have h₃ : u = 34",
            "have h₃₁ : 34 ∈ S := by\n  rw [h₀]\n  norm_num [Nat.ModEq]",
            "exact h₁.unique h₃₂",
            "simp",
        ],
        id="only-outermost-have-decomposed",
    ),
    pytest.param(
        "  have a := by\n    have b := by\n      have c := by\n        omega\n      exact c\n    exact b\n  exact a",
        ["have a := by\n  have b := by\n    have c := by\n      omega\n    exact c\n  exact b", "exact a"],
        id="nested-untyped-relative-indent",
    ),
    pytest.param(
        "  have h : T := by\n    rw [foo]\n    simp\n  exact h",
        ["have h : T", "rw [foo]", "simp", "exact h"],
        id="typed-have-two-lines",
    ),
    pytest.param(
        "  have h : T := by\n    omega\n  exact h",
        ["have h : T := by omega", "exact h"],
        id="typed-have-one-line",
    ),
    pytest.param(
        "  let x : ℕ := by\n    apply f\n    exact 3\n  simp",
        ["let x : ℕ", "apply f", "exact 3", "simp"],
        id="typed-let",
    ),
    pytest.param(
        "  have h : T by\n    rw [foo]\n    simp",
        ["have h : T", "rw [foo]", "simp"],
        id="have-by-without-colon-eq",
    ),
    pytest.param(
        "  conv =>\n    rw [foo]\n    simp\n  exact h",
        ["conv =>\n  rw [foo]\n  simp", "exact h"],
        id="conv-not-decomposed",
    ),
    pytest.param(
        "  have h₃ : u = 34 := by\n    have h₃₁ : 34 ∈ S := by\n      rw [h₀]\n      norm_num [Nat.ModEq]\n    have h₃₂ : IsLeast S 34 := by\n      exact ⟨h₃₁, fun x hx => by omega⟩\n    exact h₁.unique h₃₂\n  exact h₃",
        [
            "have h₃ : u = 34",
            "have h₃₁ : 34 ∈ S := by\n  rw [h₀]\n  norm_num [Nat.ModEq]",
            "have h₃₂ : IsLeast S 34 := by exact ⟨h₃₁, fun x hx => by omega⟩",
            "exact h₁.unique h₃₂",
            "exact h₃",
        ],
        id="is-least-real",
    ),
    # A bare `<;>` line joins the lines around it: `<;>` cannot start a tactic, so Lean reads one chain.
    pytest.param(
        "interval_cases x\n<;> omega\n<;>\nsimp",
        ["interval_cases x <;> omega <;> simp"],
        id="dangling-combinator",
    ),
    pytest.param("interval_cases x <;> omega\n<;>", ["interval_cases x <;> omega"], id="dangling-combinator-at-end"),
    pytest.param(
        "  cases' abs_cases a with h h <;>\n  nlinarith [sq_nonneg a]\n  <;>\n  nlinarith\n  <;>\n  linarith",
        ["cases' abs_cases a with h h <;> nlinarith [sq_nonneg a] <;> nlinarith <;> linarith"],
        id="chain-trailing-then-bare-separators",
    ),
    pytest.param(
        "  norm_num\n  <;> simp [mul_add,\n    add_mul]\n  <;> ring",
        ["norm_num <;> simp [mul_add,\nadd_mul] <;> ring"],
        id="chain-leading-with-wrapped-brackets",
    ),
    pytest.param(
        "  cases' h with h h <;>\n  simp only [abs_of_nonneg,\n    abs_of_nonpos] <;>\n  linarith",
        ["cases' h with h h <;> simp only [abs_of_nonneg,\nabs_of_nonpos] <;> linarith"],
        id="chain-trailing-with-wrapped-brackets",
    ),
    pytest.param(
        "  constructor\n  all_goals\n    norm_num\n    linarith\n  exact h",
        ["constructor", "all_goals\n  norm_num\n  linarith", "exact h"],
        id="all-goals-block",
    ),
    pytest.param(
        "  refine' ⟨_, _⟩\n  all_goals\n  linarith [h₀, h₁]\n  <;> linarith",
        ["refine' ⟨_, _⟩", "all_goals\n  linarith [h₀, h₁]\n  <;> linarith"],
        id="all-goals-body-at-same-column",
    ),
    pytest.param(
        "  interval_cases n <;> simp_all\n  all_goals\n norm_num at h₁",
        ["interval_cases n <;> simp_all", "all_goals\n  norm_num at h₁"],
        id="all-goals-body-at-lower-column",
    ),
    pytest.param("·\nintro h\n·\nexact h", ["intro h", "exact h"], id="bare-focus-dots"),
    pytest.param("· intro h\n· exact h", ["intro h", "exact h"], id="bullet-cdot"),
    pytest.param("∙ simp\n∙ ring", ["simp", "ring"], id="bullet-operator"),
    pytest.param("intro x\n· simp\nexact h", ["intro x", "simp", "exact h"], id="bullet-mixed"),
    pytest.param(".\nsimp", ["simp"], id="dot-dropped"),
    pytest.param(
        "  rcases b with (_ | _ | _ | _) <;>\n  simp_all [pow_one] <;>\n  norm_num at * <;>\n  linarith",
        ["rcases b with (_ | _ | _ | _) <;> simp_all [pow_one] <;> norm_num at * <;> linarith"],
        id="chain-trailing",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp only [h₀, h₁] at *\n  norm_num at h₁\n  rcases b with (_ | _ | _ | _) <;>\n  simp_all [pow_one, pow_two, pow_three] <;>\n  norm_num at * <;>\n  linarith",
        [
            "intro b F h₀ h₁",
            "simp only [h₀, h₁] at *",
            "norm_num at h₁",
            "rcases b with (_ | _ | _ | _) <;> simp_all [pow_one, pow_two, pow_three] <;> norm_num at * <;> linarith",
        ],
        id="chain-after-tactics",
    ),
    pytest.param(
        "  norm_num at h₁\n  <;>\n  rcases b with (_ | _ | _ | _) <;>\n  linarith",
        ["norm_num at h₁ <;> rcases b with (_ | _ | _ | _) <;> linarith"],
        id="chain-bare-separator",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp only [h₀, h₁] at *\n  norm_num at h₁\n  <;>\n  rcases b with (_ | _ | _ | _) <;>\n  simp_all [pow_one, pow_two, pow_three] <;>\n  norm_num at * <;>\n  linarith",
        [
            "intro b F h₀ h₁",
            "simp only [h₀, h₁] at *",
            "norm_num at h₁ <;> rcases b with (_ | _ | _ | _) <;> simp_all [pow_one, pow_two, pow_three] <;> norm_num at * <;> linarith",
        ],
        id="chain-real-mathd-algebra-59",
    ),
    pytest.param("interval_cases x <;> omega", ["interval_cases x <;> omega"], id="chain-one-line"),
    pytest.param(
        "  rcases n with (_ | _ | _) <;>\n  (try norm_num) <;>\n  (try linarith) <;>\n  nlinarith",
        ["rcases n with (_ | _ | _) <;> (try norm_num) <;> (try linarith) <;> nlinarith"],
        id="chain-with-try",
    ),
    pytest.param(
        "  simp [h₀]\n  <;> ring_nf at *\n  <;> norm_num\n  <;> linarith",
        ["simp [h₀] <;> ring_nf at * <;> norm_num <;> linarith"],
        id="chain-leading",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  norm_num at h₁\n  <;> ring_nf at *\n  <;> linarith",
        ["intro b F h₀ h₁", "norm_num at h₁ <;> ring_nf at * <;> linarith"],
        id="chain-leading-after-tactics",
    ),
    # A leading-combinator line after a trailing-combinator chain continues it (BurnQED left `<;> linarith`
    # on its own, a piece no verifier parses).
    pytest.param(
        "  rcases b with (_ | _) <;>\n  simp_all <;>\n  norm_num\n  <;> linarith",
        ["rcases b with (_ | _) <;> simp_all <;> norm_num <;> linarith"],
        id="chain-mixed-layouts",
    ),
    pytest.param(
        "  norm_num at h₄ ⊢\n  <;> linarith",
        ["norm_num at h₄ ⊢ <;> linarith"],
        id="chain-single-continuation",
    ),
    # A hint list wrapped over lines, then `<;> tac` lines: one chain (the bundled RL-Lean proofs use this layout).
    pytest.param(
        "  nlinarith [sq_nonneg (a - b),\n    sq_nonneg (a + b)]\n  <;> norm_num\n  <;> linarith",
        ["nlinarith [sq_nonneg (a - b),\nsq_nonneg (a + b)] <;> norm_num <;> linarith"],
        id="chain-after-wrapped-brackets",
    ),
    pytest.param(
        "  simp [h₀]\n  ring_nf at *\n  norm_num",
        ["simp [h₀]", "ring_nf at *", "norm_num"],
        id="no-false-chain",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp_all only [h₀, h₁, pow_one, add_left_inj]\n  <;> norm_num at h₁ ⊢\n  <;> nlinarith [pow_two_nonneg (b - 1), pow_two_nonneg (b + 1)]",
        [
            "intro b F h₀ h₁",
            "simp_all only [h₀, h₁, pow_one, add_left_inj] <;> norm_num at h₁ ⊢ <;> nlinarith [pow_two_nonneg (b - 1), pow_two_nonneg (b + 1)]",
        ],
        id="chain-leading-with-brackets",
    ),
    pytest.param(
        "case inl h =>\n  simp\n  linarith\ncase inr h =>\n  simp",
        ["case inl h =>\n  simp\n  linarith", "case inr h =>\n  simp"],
        id="case-blocks",
    ),
    pytest.param(
        "  · have h : x = 1 := by\n      simp\n      ring\n    exact h",
        ["have h : x = 1", "simp", "ring", "exact h"],
        id="bullet-before-typed-have",
    ),
    pytest.param(
        "exact ⟨by norm_num,\n  by linarith⟩\nsimp",
        ["exact ⟨by norm_num,\nby linarith⟩", "simp"],
        id="angle-brackets",
    ),
    pytest.param(
        "  have h : x = 1 := by\n    simp\n\n    ring\n  exact h",
        ["have h : x = 1", "simp", "ring", "exact h"],
        id="blank-line-inside-body",
    ),
    pytest.param(
        "  have h : x = 1 := by\n    simp\n\n  exact h",
        ["have h : x = 1 := by simp", "exact h"],
        id="blank-line-ends-body",
    ),
    pytest.param(
        "  have h : x = 1 := by\n    simp\n-- a comment at column 0\n    ring\n  exact h",
        ["have h : x = 1", "simp", "ring", "exact h"],
        id="comment-does-not-end-body",
    ),
    pytest.param("intro x\r\nsimp\r\n", ["intro x", "simp"], id="crlf"),
    pytest.param(
        "  simp [h₀] -- unfold\n  <;> linarith -- close",
        ["simp [h₀] <;> linarith"],
        id="trailing-comments-do-not-swallow-a-chain",
    ),
    pytest.param("· -- Case 1: x ≤ 0\n  simp\n· nlinarith", ["simp", "nlinarith"], id="bullet-then-comment"),
    pytest.param("··\nsimp", ["simp"], id="double-bullet"),
    pytest.param("simp  <;>", ["simp"], id="lone-trailing-combinator"),
    pytest.param(
        "  norm_num\n  linarith\n\n#print axioms foo", ["norm_num", "linarith"], id="command-ends-proof"
    ),
    pytest.param(
        "intro h\n  simp\n```\nThe proof introduces h and simplifies.",
        ["intro h", "simp"],
        id="prose-after-closing-fence",
    ),
]


@pytest.mark.parametrize(("completion", "expected"), PROOF_CASES)
def test_extract_proof_tactics(completion: str, expected: list[str]) -> None:
    assert extract_proof_tactics(completion) == expected
