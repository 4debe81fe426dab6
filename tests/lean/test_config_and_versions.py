"""Configuration validation and the refusal of datasets written for another Lean version."""

import json
import sys

import pytest

from prover.lean.config import LeanConfig, default_worker_count
from prover.lean.errors import ConfigError, VersionMismatchError
from prover.lean.versions import LeanVersions, parse_version_output, require_compatible_lean


def test_default_runs_minilean_with_this_interpreter():
    config = LeanConfig()
    assert config.command[:3] == [sys.executable, "-m", "minilean"]
    assert config.version_command == [sys.executable, "-m", "minilean", "--version"]
    assert 1 <= config.num_workers <= 16 and config.num_workers == default_worker_count()
    assert LeanConfig.minilean(theorems_file="t.jsonl").args == ("--theorems", "t.jsonl")


def test_production_runs_pantograph_with_mathlib():
    config = LeanConfig.pantograph(lean_path="/lean/lib", mathlib_version="v4.21.0")
    assert config.command == ["pantograph-repl", "Init", "Mathlib", "--maxHeartbeats=200000", "--maxRecDepth=100000"]
    assert config.version_command == ["pantograph-repl", "--version"]
    assert config.env["LEAN_PATH"] == "/lean/lib" and config.backend == "pantograph"


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_workers", 0), ("request_timeout_s", -1), ("max_requests", 0), ("memory_cap_mb", 0), ("program", ())],
)
def test_bad_config_values_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"LeanConfig.{field}"):
        LeanConfig(**{field: value})


def test_pantograph_version_implies_its_toolchain_but_a_stand_in_claims_none():
    versions = parse_version_output("0.3.4\n", backend="pantograph")
    assert (versions.pantograph, versions.lean, versions.mathlib) == ("0.3.4", "4.21.0", None)
    stand_in = parse_version_output("0.3.4\n", backend="minilean")
    assert (stand_in.pantograph, stand_in.lean, stand_in.is_lean) == ("0.3.4", None, False)
    require_compatible_lean("leanprover/lean4:nightly-2023-08-19", stand_in)  # nothing to mismatch
    described = parse_version_output("minilean 0.1.0 (models Lean 4.24.0, Mathlib v4.24.0)", backend="minilean")
    assert described.lean == "4.24.0" and described.mathlib == "4.24.0"


RUNNING = LeanVersions(backend="pantograph", lean="4.21.0", mathlib="4.21.0", pantograph="0.3.4")


def test_matching_or_undeclared_dataset_runs():
    require_compatible_lean("leanprover/lean4:v4.21.0", RUNNING)
    require_compatible_lean("v4.21 (some setup)", RUNNING)
    require_compatible_lean(None, RUNNING)
    require_compatible_lean("not stated (their IMO 2025 files: v4.14.0)", RUNNING)


def test_other_lean_version_is_refused_unless_overridden():
    with pytest.raises(VersionMismatchError, match=r"minif2f_lean4 declares Lean v4.24.0.*runs Lean 4.21.0.*override"):
        require_compatible_lean("v4.24.0", RUNNING, dataset="minif2f_lean4")
    require_compatible_lean("v4.24.0", RUNNING, allow_mismatch=True)
    with pytest.raises(VersionMismatchError, match="cannot read"):
        require_compatible_lean("Lean four", RUNNING)
    unknown = LeanVersions(backend="pantograph", lean=None, mathlib=None, pantograph="9.9", raw="9.9")
    with pytest.raises(VersionMismatchError, match="does not report its Lean version"):
        require_compatible_lean("v4.9.0", unknown)


def test_config_round_trips_through_plain_data_and_rejects_unknown_keys():
    config = LeanConfig.pantograph(num_workers=3, lean_path="/lean")
    data = config.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert LeanConfig.from_dict(data) == config
    with pytest.raises(ConfigError, match=r"run 12 lean settings: unknown setting\(s\) num_worker\b"):
        LeanConfig.from_dict({"num_worker": 4}, where="run 12 lean settings")
    with pytest.raises(ConfigError, match="LeanConfig.request_timeout_s"):
        LeanConfig.from_dict({"request_timeout_s": "soon"})
