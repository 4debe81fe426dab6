"""Lean commands have no business inside a statement or a tactic: they run code in the REPL's process.

A statement reaches Lean only as a `goal.start` expression; anything that looks like a top-level command
(`#eval`, `run_cmd`, `import`, `elab`, ...) is refused before it reaches a process.
"""

import re

# `#` commands (#eval, #print, #exit, ...) and keywords that declare or execute things at the top level.
_COMMAND = re.compile(
    r"(#[a-zA-Z_]+)"
    r"|(?<![\w.'])(run_cmd|run_elab|run_meta|import|elab|elab_rules|macro|macro_rules|syntax|notation|"
    r"infix|infixl|infixr|prefix|postfix|initialize|builtin_initialize|unsafe|implemented_by|extern|"
    r"set_option|open|namespace|section|end|theorem|lemma|def|instance|axiom|example|abbrev|opaque|"
    r"attribute|declare_syntax_cat|local|scoped)(?![\w'])"
)


def find_lean_command(text: str) -> str | None:
    """The first Lean command word in `text`, or None. Meant for statements (closed expressions)."""
    match = _COMMAND.search(text)
    return match.group(0) if match else None
