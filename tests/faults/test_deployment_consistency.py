"""docker/ says what the tests run: every service's command exists in the project, every environment variable it
sets is one the settings read, images pin Lean/Mathlib/Pantograph together and workers are not root."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from burnqed_web.celery import QUEUES
from prover.lean.versions import PANTOGRAPH_LEAN_TOOLCHAINS, parse_version_output

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
OURS = {name: s for name, s in COMPOSE["services"].items() if "build" in s and "Dockerfile.sglang" not in
        s["build"]["dockerfile"]}
# Read by the images we do not build (postgres, SGLang), not by our settings.
FOREIGN_VARIABLES = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


def dockerfile(service: dict) -> str:
    return (ROOT / service["build"]["context"].replace("..", ".") / service["build"]["dockerfile"]).read_text()


def image_cmd(text: str) -> list[str]:
    return json.loads(re.findall(r"^CMD (\[.*\])$", text, re.MULTILINE)[-1])


def commands(service: dict) -> list[list[str]]:
    """The service's command, split at `&&` when it is a shell line, else the image's CMD."""
    command = service.get("command") or service.get("entrypoint") or image_cmd(dockerfile(service))
    if isinstance(command, str):
        command = shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def settings_variables() -> set[str]:
    text = (ROOT / "burnqed_web/settings.py").read_text()
    return set(re.findall(r"env\.\w+\(\s*\"([A-Z0-9_]+)\"", text))


def test_every_variable_a_service_sets_is_read_by_the_settings():
    read = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "BURNQED_POLICY_URL"} <= read  # the parser reads the settings at all
    for name, service in OURS.items():
        variables = set(service.get("environment") or {}) - {"<<"}
        for line in re.findall(r"^ENV (.*)$", dockerfile(service), re.MULTILINE):  # the image's own settings
            variables |= {pair.split("=")[0] for pair in line.split() if pair.startswith(("BURNQED_", "DJANGO_"))}
        unread = sorted(variables - read - FOREIGN_VARIABLES)
        assert not unread, f"service {name} sets {unread}, which burnqed_web/settings.py never reads"


def test_every_command_exists_in_the_project():
    from django.core.management import get_commands

    manage_commands = set(get_commands())
    for name, service in OURS.items():
        for command in commands(service):
            if command[0] in ("true",):
                continue
            program = command[2:] if command[0].startswith("python") and command[1] == "-m" else command
            if command[0].startswith("python") and command[1] == "manage.py":
                assert command[2] in manage_commands, f"{name}: no manage.py command {command[2]!r}"
            elif program[0] == "celery":
                assert program[1:3] == ["-A", "burnqed_web"] and program[3] in ("worker", "beat"), (name, program)
                if "-Q" in program:
                    queues = program[program.index("-Q") + 1].split(",")
                    assert set(queues) <= set(QUEUES), f"{name}: undeclared queue in {queues}"
            elif program[0] == "daphne":
                module, attribute = program[-1].split(":")
                assert attribute in vars(__import__(module, fromlist=[attribute])), (name, program)
            elif command[0].startswith("python") and command[1] == "-m":
                options = re.findall(r"--[a-z-]+", subprocess.run(
                    [sys.executable, "-m", program[0], "--help"], cwd=ROOT, capture_output=True, text=True,
                    timeout=120).stdout)
                for flag in (arg for arg in program[1:] if arg.startswith("--")):
                    assert flag in options, f"{name}: python -m {program[0]} has no option {flag}"
            else:
                pytest.fail(f"{name}: a command this test does not know how to check: {command}")


@pytest.mark.parametrize("name", ["Dockerfile.web", "Dockerfile.gpu-worker"])
def test_images_that_run_jobs_are_not_root_and_hold_the_whole_project(name):
    text = (DOCKER / name).read_text()
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), f"{name} runs as root"
    assert re.search(r"^COPY \. \.$", text, re.MULTILINE), f"{name} must copy the project (.dockerignore trims it)"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for app in ("burnqed_web", "jobs", "prover", "training", "iterations", "theorem_data", "minilean"):
        assert app not in ignored


def test_the_lean_image_pins_versions_that_agree_and_reports_them_as_runs_read_them(tmp_path):
    text = (DOCKER / "Dockerfile.lean").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.MULTILINE))
    pantograph, lean, mathlib = (args[k].lstrip("v") for k in ("PANTOGRAPH_REF", "LEAN_TOOLCHAIN", "MATHLIB_REF"))
    assert PANTOGRAPH_LEAN_TOOLCHAINS[pantograph] == lean, "Pantograph is built for another Lean toolchain"
    assert mathlib == lean, "Mathlib's tag names the toolchain it builds with"
    # The wrapper answers --version from the file the image writes; runs parse that answer.
    versions = tmp_path / "versions.json"
    versions.write_text(json.dumps({"pantograph": pantograph, "lean": lean, "mathlib": mathlib}))
    wrapper = (DOCKER / "pantograph-repl").read_text().replace("/etc/burnqed/versions.json", str(versions))
    (tmp_path / "repl").write_text(wrapper)
    answer = subprocess.run(["sh", str(tmp_path / "repl"), "--version"], capture_output=True, text=True, timeout=10)
    parsed = parse_version_output(answer.stdout, backend="pantograph")
    assert (parsed.pantograph, parsed.lean, parsed.mathlib) == (pantograph, lean, mathlib)
    assert "/etc/burnqed/versions.json" in text and "COPY docker/pantograph-repl /usr/local/bin/pantograph-repl" in text
