"""Goals and their local contexts, named and printed as Lean prints them (docs/minilean-lean-facts.md, printing)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .elab import fresh_id
from .terms import PROP, Term, Var, pretty

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Hyp:
    """A local hypothesis: a variable (`type` is a type name such as ℝ or Prop) or a proof of a proposition."""

    fid: int
    name: str
    type: Term | str
    inaccessible: bool = False

    @property
    def is_var(self) -> bool:
        return isinstance(self.type, str)

    @property
    def var(self) -> Var:
        assert isinstance(self.type, str)
        return Var(self.fid, self.name, self.type)


@dataclass(frozen=True)
class Goal:
    target: Term
    hyps: tuple[Hyp, ...] = ()
    tag: str | None = None
    gid: int = field(default_factory=fresh_id)

    def with_target(self, target: Term, tag: str | None = "keep") -> Goal:
        return Goal(target, self.hyps, self.tag if tag == "keep" else tag)

    def with_hyps(self, hyps: tuple[Hyp, ...], target: Term | None = None) -> Goal:
        return Goal(self.target if target is None else target, hyps, self.tag)

    def add_hyp(self, name: str, type_: Term | str, inaccessible: bool = False, fid: int | None = None) -> Goal:
        hyp = Hyp(fresh_id() if fid is None else fid, name, type_, inaccessible)
        return Goal(self.target, self.hyps + (hyp,), self.tag)

    def renamed_tag(self, suffix: str) -> Goal:
        return replace(self, tag=f"{self.tag}.{suffix}" if self.tag else suffix, gid=fresh_id())

    # -------------------------------------------------------------------------------------- names
    def display_names(self) -> dict[int, str]:
        """Lean's names: shadowed or anonymous hypotheses get a dagger, numbered from the newest down."""
        out: dict[int, str] = {}
        plain_taken: set[str] = set()
        dagger_count: dict[str, int] = {}
        for hyp in reversed(self.hyps):
            if not hyp.inaccessible and hyp.name not in plain_taken:
                plain_taken.add(hyp.name)
                out[hyp.fid] = hyp.name
                continue
            n = dagger_count.get(hyp.name, 0)
            dagger_count[hyp.name] = n + 1
            out[hyp.fid] = hyp.name + "✝" + (str(n).translate(_SUPERSCRIPTS) if n else "")
        return out

    def scope(self) -> dict[str, Var]:
        """Variables reachable by name when elaborating user text in this goal."""
        names = self.display_names()
        return {names[h.fid]: h.var for h in self.hyps if h.is_var and names[h.fid] == h.name}

    def find_hyp(self, name: str) -> Hyp | None:
        names = self.display_names()
        for hyp in reversed(self.hyps):
            if names[hyp.fid] == name:
                return hyp
        return None

    def prop_hyps(self) -> list[Hyp]:
        return [h for h in self.hyps if not h.is_var]

    # -------------------------------------------------------------------------------------- printing
    def pp_type(self, hyp: Hyp, names: dict[int, str] | None = None) -> str:
        if isinstance(hyp.type, str):
            return hyp.type
        return pretty(hyp.type, names or self.display_names())

    def pp_target(self) -> str:
        return pretty(self.target, self.display_names())

    def render(self) -> str:
        """Lean's `ppGoal` text: optional case line, grouped hypotheses, `⊢ target`."""
        names = self.display_names()
        lines: list[str] = []
        if self.tag:
            lines.append(f"case {self.tag}")
        group: list[str] = []
        group_type: str | None = None
        for hyp in self.hyps:
            ty = self.pp_type(hyp, names)
            if group and ty == group_type:
                group.append(names[hyp.fid])
                continue
            if group:
                lines.append(f"{' '.join(group)} : {group_type}")
            group, group_type = [names[hyp.fid]], ty
        if group:
            lines.append(f"{' '.join(group)} : {group_type}")
        lines.append(f"⊢ {pretty(self.target, names)}")
        return "\n".join(lines)

    def to_json(self, options: dict) -> dict:
        names = self.display_names()
        out: dict = {
            "fragment": "tactic",
            "name": f"_uniq.{self.gid}",
            "target": _expression(pretty(self.target, names), options),
            "vars": [
                {
                    "isInaccessible": names[h.fid] != h.name or h.inaccessible,
                    "name": f"_uniq.{h.fid}",
                    "type": _expression(self.pp_type(h, names), options),
                    "userName": names[h.fid],
                }
                for h in self.hyps
            ],
        }
        if self.tag:
            out["userName"] = self.tag
        return out


def _expression(pp: str, options: dict) -> dict:
    out: dict = {}
    if options.get("printExprPretty", True):
        out["pp"] = pp
    if options.get("printDependentMVars", False):
        out["dependentMVars"] = []
    return out


def render_goals(goals: list[Goal] | tuple[Goal, ...]) -> str:
    return "\n\n".join(g.render() for g in goals)


def is_prop_type(type_: Term | str) -> bool:
    return type_ == PROP
