"""Lean commands have no business inside a statement or a tactic: they run code in the REPL's process.

A statement reaches Lean only as a `goal.start` expression; anything that looks like a top-level command
(`#eval`, `run_cmd`, `import`, `elab`, ...) is refused before it reaches a process.
"""

import re

# Words that declare or execute things at the top level, and every `#` command (#eval, #print, #exit, ...).
COMMAND_WORDS = frozenset(
    "run_cmd run_elab run_meta import elab elab_rules macro macro_rules syntax notation infix infixl infixr "
    "prefix postfix initialize builtin_initialize unsafe implemented_by extern set_option open namespace section "
    "end theorem lemma def instance axiom example abbrev opaque attribute declare_syntax_cat local scoped".split()
)
# A token is a maximal run of identifier characters, dots included, so `Nat.end` or `h_open` is not a command.
_TOKEN = re.compile(r"#?[\w.'!?]+")


def find_lean_command(text: str) -> str | None:
    """The first Lean command word in `text`, or None. Meant for statements (closed expressions)."""
    # Substring tests run in C and clear almost every real statement before the token scan.
    if "#" not in text and not any(word in text for word in COMMAND_WORDS):
        return None
    for token in _TOKEN.findall(text):
        if token in COMMAND_WORDS or (token[0] == "#" and len(token) > 1 and token[1].isalpha()):
            return token
    return None
