"""Parse Lean 4 term syntax (the fragment of grammar.lark) into a small untyped syntax tree.

The tree is made of `Syn(kind, args, pos)` nodes; elaboration into typed terms is `elab.py`'s job.
Every failure is a `ParseError` carrying a 1-based line and 0-based column, as Lean reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken


class ParseError(Exception):
    """Text that is not in the accepted syntax; `line` is 1-based and `column` 0-based (Lean's convention)."""

    def __init__(self, message: str, line: int = 1, column: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def render(self, file_name: str) -> str:
        return f"{file_name}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Syn:
    kind: str
    args: tuple
    column: int = 0


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _col(meta_or_token) -> int:
    column = getattr(meta_or_token, "column", None)
    return (column - 1) if isinstance(column, int) else 0


_BY = re.compile(r"(?<![\w'.])by(?![\w'!?])")
_CLOSERS = ")]}⟩›"


def _cut_by_blocks(text: str) -> tuple[str, list[str]]:
    """Replace every `by <tactics>` inside a term by `⟪n⟫`, returning the tactic texts.

    A term-level `by` block extends as far as Lean's does: to the first `,` `:` or closing bracket that is not
    inside brackets of its own (so `⟨by linarith, by simp⟩` and `(by norm_num : (2:ℝ) ≠ 0)` split as in Lean).
    """
    blocks: list[str] = []
    out: list[str] = []
    i = 0
    while True:
        m = _BY.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out), blocks
        out.append(text[i:m.start()])
        j, depth = m.end(), 0
        while j < len(text):
            ch = text[j]
            if ch in "([{⟨‹":
                depth += 1
            elif ch in _CLOSERS:
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (ch == "," or (ch == ":" and not text.startswith(":=", j))):
                break
            j += 1
        inner, nested = _cut_by_blocks(text[m.end():j])
        if nested:
            raise ParseError("unsupported: a `by` block inside a `by` block of a term")
        blocks.append(inner.strip())
        out.append(f"⟪{len(blocks) - 1}⟫")
        i = j


@v_args(tree=True)
class _ToSyn(Transformer):
    def __init__(self, blocks: list[str] | None = None):
        super().__init__()
        self.blocks = blocks or []

    def _node(self, kind: str, tree: Tree, args: tuple) -> Syn:
        column = _col(tree.meta) if not tree.meta.empty else 0
        return Syn(kind, args, column)

    def __default__(self, data, children, meta):  # pragma: no cover - every rule is named below
        raise ParseError(f"unsupported syntax {data}")

    def quant(self, tree):
        q, binders, body = tree.children
        return self._node("quant", tree, (str(q), binders, body))

    # binders are normalised to a list of (names, type syntax or None, (relation, bound) or None)
    def grouped_binders(self, tree):
        return list(tree.children)

    def simple_binders(self, tree):
        names, *ty = tree.children
        return [(names, ty[0] if ty else None, None)]

    def pred_binder(self, tree):
        name, pred = tree.children
        return [([str(name)], None, pred[1:])]

    def binder_group(self, tree):
        names, ty = tree.children
        return (names, ty, None)

    def plain_binders(self, tree):
        return [str(t) for t in tree.children]

    def binder_pred(self, tree):
        op, rhs = tree.children
        return ("pred", str(op), rhs)

    def iff(self, tree):
        return self._node("iff", tree, tuple(tree.children))

    def implies(self, tree):
        return self._node("implies", tree, _operands(tree))

    def or_(self, tree):
        return self._node("or", tree, _operands(tree))

    def and_(self, tree):
        return self._node("and", tree, _operands(tree))

    def bigop(self, tree):
        op, name, where, body = tree.children
        return self._node("bigop", tree, (str(op), str(name), where, body))

    def factorial(self, tree):
        return self._node("call", tree, ("Nat.factorial", tuple(tree.children)))

    def floor_bars(self, tree):
        return self._node("call", tree, ("Int.floor", tuple(tree.children)))

    def ceil_bars(self, tree):
        return self._node("call", tree, ("Int.ceil", tuple(tree.children)))

    def not_(self, tree):
        return self._node("not", tree, tuple(tree.children))

    def rel(self, tree):
        lhs, op, rhs = tree.children
        return self._node("rel", tree, ({">=": "≥", "<=": "≤"}.get(str(op), str(op)), lhs, rhs))

    def dvd(self, tree):
        lhs, rhs = tree.children
        return self._node("rel", tree, ("∣", lhs, rhs))

    def _bin(self, op, tree):
        return self._node("bin", tree, (op, tree.children[0], tree.children[1]))

    def add(self, tree):
        return self._bin("+", tree)

    def sub(self, tree):
        return self._bin("-", tree)

    def mul(self, tree):
        return self._bin("*", tree)

    def div(self, tree):
        return self._bin("/", tree)

    def mod(self, tree):
        return self._bin("%", tree)

    def pow(self, tree):
        return self._bin("^", tree)

    def neg(self, tree):
        return self._node("neg", tree, tuple(tree.children))

    def call(self, tree):
        head, *args = tree.children
        return self._node("call", tree, (str(head), tuple(args)))

    def coe(self, tree):
        return self._node("coe", tree, tuple(tree.children))

    def sqrt_sym(self, tree):
        return self._node("call", tree, ("Real.sqrt", tuple(tree.children)))

    def nat_lit(self, tree):
        return self._node("nat", tree, (int(str(tree.children[0])),))

    def dec_lit(self, tree):
        return self._node("dec", tree, (str(tree.children[0]),))

    def ident(self, tree):
        return self._node("ident", tree, (str(tree.children[0]),))

    def hole(self, tree):
        return self._node("hole", tree, ())

    def synth_hole(self, tree):
        return self._node("hole", tree, (str(tree.children[0]),))

    def ascription(self, tree):
        return self._node("ascribe", tree, tuple(tree.children))

    def abs_bars(self, tree):
        return self._node("call", tree, ("abs", tuple(tree.children)))

    def anon_ctor(self, tree):
        return self._node("anon", tree, tuple(tree.children))

    def tuple(self, tree):
        return self._node("anon", tree, tuple(tree.children))

    def proj(self, tree):
        inner, field = tree.children
        return self._node("proj", tree, (inner, str(field)[1:]))

    def assumption_ref(self, tree):
        return self._node("assumption", tree, tuple(tree.children))

    def by_block(self, tree):
        return self._node("by", tree, (self._block(tree.children[0]),))

    def show_by(self, tree):
        prop, ref = tree.children
        return self._node("show", tree, (prop, Syn("by", (self._block(ref),), _col(tree.meta))))

    def show_from(self, tree):
        prop, value = tree.children
        return self._node("show", tree, (prop, value))

    def _block(self, ref) -> str:
        return self.blocks[int(str(ref)[1:-1])]


def _operands(tree: Tree) -> tuple:
    """The operands of a binary connective (the connective's own token, → or ->, is dropped)."""
    return tuple(c for c in tree.children if not isinstance(c, Token))


def parse_term(text: str) -> Syn:
    """Parse one term (a proposition or an arithmetic expression)."""
    if not text.strip():
        raise ParseError("expected term", 1, len(text))
    text, blocks = _cut_by_blocks(text)
    try:
        tree = _lark().parse(text)
    except UnexpectedCharacters as exc:
        raise ParseError(f"unexpected token '{text[exc.pos_in_stream]}'; expected term",
                         exc.line, exc.column - 1) from None
    except UnexpectedEOF as exc:
        raise ParseError("unexpected end of input", 1, len(text)) from exc
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            line = text.count("\n") + 1
            raise ParseError("unexpected end of input", line, len(text.rsplit("\n", 1)[-1])) from None
        raise ParseError(f"unexpected token '{exc.token}'; expected term", exc.line, exc.column - 1) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        raise ParseError(str(exc).splitlines()[0]) from None
    try:
        result = _ToSyn(blocks).transform(tree)
    except LarkError as exc:
        inner = exc.__context__ if isinstance(exc.__context__, ParseError) else None
        if inner is not None:
            raise inner from None
        raise ParseError(str(exc).splitlines()[0]) from None
    if isinstance(result, Tree | Token):  # pragma: no cover - grammar always yields a Syn
        raise ParseError("unsupported syntax")
    return result
