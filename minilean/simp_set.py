"""Mathlib's default simp set as minilean models it: the lemmas of `lemma_table.py` marked `simp`, as rules."""

from __future__ import annotations

from functools import cache

from .lemma_table import LEMMAS
from .proof_terms import Application
from .rewriting import RewriteRule, rules_from
from .schemas import lemma_types, schema


@cache
def _rules() -> tuple[RewriteRule, ...]:
    out: list[RewriteRule] = []
    for lemma in LEMMAS:
        if not lemma.simp:
            continue
        for ty in lemma_types(lemma.name):
            sch = schema(lemma.name, ty)
            rule = rules_from(Application(sch, {}, [p for p in sch.params if p.explicit]), simp=True)
            if rule is not None:
                out.append(rule)
    return tuple(out)


def default_rules() -> list[RewriteRule]:
    return list(_rules())
