"""House rules that the code layout must keep."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_core_never_imports_django_and_the_apps_never_import_each_other():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_the_code_is_ruff_clean():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


# --- Comments point at docs/ that ship with the repository -------------------------------------------------

SOURCE_SUFFIXES = (".py", ".js", ".html")
NOT_OURS = {".git", ".venv", "node_modules", "__pycache__", "vendor"}  # static/vendor: third-party libraries

# A citation of a note the user of the repository does not have: numbered sections or pitfalls of the research
# notes ("reference 1.4", "pitfall B20", "seed gotcha 11", "§8.4"), their file names, and phrasing that only makes
# sense with them at hand ("the reference's order", "the peer's tests", "(B6)").
FOREIGN_CITATION = re.compile(
    r"""\breference\s+(?:sections?\s+|pitfalls?\s+)?[A-Z]?\d
      | \bpitfalls?\s+[A-Z]?\d
      | \bgotchas?\s*\d
      | \bseed\s+(?:gotcha|decision)
      | §\s*\d
      | (?<!docs/)\b(?:burnqed-reference|pantograph-protocol|lean-semantics|data-analysis|embedded-model-notes
                     |anchors|DESIGN)\.md\b
      | \blean-semantics\s+(?:sections?\s+)?\d
      | \bsections?\s+\d+\.\d
      | shared/(?:reference|seed)
      | \bthe\s+(?:reference|seed|peer|brief)\b
      | (?-i:\((?:[^()\n]*[,;]\s*)?[BP]\d{1,2}\)|\b[BP]\d{1,2}:)
    """,
    re.IGNORECASE | re.VERBOSE,
)
DOCS_POINTER = re.compile(r"\bdocs/([\w./-]+\.md)(?:#([\w-]+))?")
DOCS_LINK = re.compile(r"\]\(([\w./-]+\.md)(?:#([\w-]+))?\)")


def _our_sources() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).parts
        if (path.suffix in SOURCE_SUFFIXES and path.is_file() and not NOT_OURS.intersection(relative)
                and path != Path(__file__).resolve()):  # this file spells the patterns out
            found.append(path)
    return sorted(found)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(markdown: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in markdown.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")}


def _broken_pointer(target: Path, anchor: str | None) -> str | None:
    if not target.is_file():
        return "no such file"
    if anchor and anchor not in _anchors(target):
        return f"no section #{anchor} (sections: {', '.join(sorted(_anchors(target)))})"
    return None


def test_no_comment_cites_a_note_the_repository_does_not_have():
    offences = []
    for path in _our_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in FOREIGN_CITATION.finditer(line):
                offences.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r} in {line.strip()[:120]!r}")
    assert not offences, ("write the fact into docs/ and point there (docs/<topic>.md#<section>):\n"
                          + "\n".join(offences))


def test_every_docs_pointer_in_the_code_names_a_file_and_section_that_exist():
    pointers = 0
    problems = []
    for path in _our_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in DOCS_POINTER.finditer(line):
                pointers += 1
                why = _broken_pointer(ROOT / "docs" / match.group(1), match.group(2))
                if why:
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}: {why}")
    assert not problems, "\n".join(problems)
    assert pointers > 0, "no docs/ pointer found at all: the scan is looking in the wrong place"


def test_links_between_the_docs_resolve():
    problems = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            for match in DOCS_LINK.finditer(line):
                why = _broken_pointer((page.parent / match.group(1)).resolve(), match.group(2))
                if why:
                    problems.append(f"docs/{page.name}:{number}: {match.group(0)}: {why}")
    assert not problems, "\n".join(problems)
