"""Energy-head checkpoints: safetensors + JSON config round trip, and clear errors for every mismatch."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from prover.value.checkpoint import (
    CONFIG_FILENAME,
    WEIGHTS_FILENAME,
    load_energy_head,
    read_energy_head_config,
    save_energy_head,
)
from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
from prover.value.errors import CheckpointError


def trained_looking_head(config: EnergyHeadConfig) -> GoalConditionedEnergyHead:
    torch.manual_seed(3)
    head = GoalConditionedEnergyHead(config)
    head.train()
    head(torch.randn(4, config.embedding_dim), torch.randn(config.embedding_dim))  # moves u, v off their init
    with torch.no_grad():
        head.log_temperature.fill_(0.7)
        for layer in head.layers:
            if layer.bias is not None:
                layer.bias.normal_()
    return head.eval()


def test_round_trip_restores_config_weights_and_energies(tmp_path, tiny_config) -> None:
    head = trained_looking_head(tiny_config)
    save_energy_head(head, tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == sorted([WEIGHTS_FILENAME, CONFIG_FILENAME])

    loaded = load_energy_head(tmp_path / "ckpt", expected_embedding_dim=64, expected_backbone_id="tests/tiny-random")
    assert loaded.config == tiny_config
    assert not loaded.training
    for name, tensor in head.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    z_state, z_goal = torch.randn(9, 64), torch.randn(64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(z_state, z_goal), head(z_state, z_goal), rtol=0, atol=0)

    document = json.loads((tmp_path / "ckpt" / CONFIG_FILENAME).read_text())
    assert document["version"] == 1
    assert document["config"] == {
        **tiny_config.to_dict(),
        "embedding_dim": 64,
        "hidden_dims": [32, 16, 8],
        "backbone_id": "tests/tiny-random",
        "embedding_text_format": "raw_state",
    }


def test_loading_for_an_encoder_of_another_width_is_a_clear_error(tmp_path, tiny_head) -> None:
    save_energy_head(tiny_head, tmp_path)
    with pytest.raises(CheckpointError, match="trained on 64-wide embeddings .*'tests/tiny-random'.* encoder produces 4096"):
        load_energy_head(tmp_path, expected_embedding_dim=4096)


def test_loading_for_another_backbone_is_a_clear_error(tmp_path, tiny_head) -> None:
    save_energy_head(tiny_head, tmp_path)
    with pytest.raises(CheckpointError, match="backbone 'tests/tiny-random', not 'deepseek"):
        load_energy_head(tmp_path, expected_backbone_id="deepseek-ai/DeepSeek-Prover-V2-7B")


def test_weights_that_do_not_fit_the_config_are_named(tmp_path, tiny_head) -> None:
    save_energy_head(tiny_head, tmp_path)
    wider = GoalConditionedEnergyHead(EnergyHeadConfig.for_embedding_dim(128, backbone_id="tests/tiny-random"))
    tensors = {k: v.contiguous() for k, v in wider.state_dict().items()}
    metadata = {"config": (tmp_path / CONFIG_FILENAME).read_text()}
    save_file(tensors, tmp_path / WEIGHTS_FILENAME, metadata=metadata)
    with pytest.raises(CheckpointError, match=r"tensor layers.0.weight has shape \(64, 384\), config implies \(32, 192\)"):
        load_energy_head(tmp_path)


def test_weights_from_another_checkpoint_are_caught(tmp_path, tiny_config, tiny_head) -> None:
    save_energy_head(tiny_head, tmp_path / "a")
    save_energy_head(GoalConditionedEnergyHead(EnergyHeadConfig(**{**tiny_config.to_dict(), "dropout": 0.3})), tmp_path / "b")
    (tmp_path / "a" / WEIGHTS_FILENAME).write_bytes((tmp_path / "b" / WEIGHTS_FILENAME).read_bytes())
    with pytest.raises(CheckpointError, match="different config"):
        load_energy_head(tmp_path / "a")


def test_missing_tensor_is_named(tmp_path, tiny_head) -> None:
    save_energy_head(tiny_head, tmp_path)
    tensors = load_file(tmp_path / WEIGHTS_FILENAME)
    del tensors["log_temperature"]
    save_file(tensors, tmp_path / WEIGHTS_FILENAME, metadata={"config": (tmp_path / CONFIG_FILENAME).read_text()})
    with pytest.raises(CheckpointError, match=r"missing \['log_temperature'\]"):
        load_energy_head(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda doc: doc.update(version=2), "version 2 is not supported"),
        (lambda doc: doc.update(format="something-else"), "not an energy head config"),
        (lambda doc: doc["config"].update(n_layers=4), r"unknown \['n_layers'\]"),
        (lambda doc: doc["config"].pop("backbone_id"), r"missing \['backbone_id'\]"),
        (lambda doc: doc["config"].update(dropout=2.0), "dropout must be in"),
    ],
)
def test_bad_config_files_are_clear_errors(tmp_path, tiny_head, edit, message) -> None:
    save_energy_head(tiny_head, tmp_path)
    path = tmp_path / CONFIG_FILENAME
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=message):
        read_energy_head_config(tmp_path)


def test_missing_and_corrupt_files(tmp_path, tiny_head) -> None:
    with pytest.raises(CheckpointError, match="no energy head config at"):
        load_energy_head(tmp_path / "nowhere")
    save_energy_head(tiny_head, tmp_path)
    (tmp_path / WEIGHTS_FILENAME).write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_energy_head(tmp_path)
    (tmp_path / CONFIG_FILENAME).write_text("{")
    with pytest.raises(CheckpointError, match="not readable JSON"):
        load_energy_head(tmp_path)
