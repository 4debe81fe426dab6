"""The demo proves with a committed trained model when there is one (probe tactics off), else falls back to the
base model with probe tactics and says so."""

from prover.demo import DEMO_THEOREMS, PROBE_TACTICS, TrainedModel, demo_config
from prover.engine.spec import RunSpec
from prover.value.checkpoint import CONFIG_FILENAME, WEIGHTS_FILENAME

URL = "http://127.0.0.1:30000"


def test_without_a_trained_model_the_demo_uses_probes_and_says_so(tmp_path):
    config, note = demo_config(policy_url=URL, model=TrainedModel.find(tmp_path))
    assert config["search"]["probe_tactics"] == PROBE_TACTICS and "adapter" not in config
    assert "no trained adapter" in note and "probe tactics on" in note
    RunSpec.from_mapping(config, deployment={"policy_url": URL})  # what launch_run validates


def test_a_trained_adapter_and_ebm_turn_probes_off(tmp_path):
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter/adapter_config.json").write_text("{}")
    (tmp_path / "ebm").mkdir()
    config, note = demo_config(policy_url=URL, model=TrainedModel.find(tmp_path))
    assert config["adapter"] == str(tmp_path / "adapter") and config["search"]["probe_tactics"] == []
    assert "ebm_path" not in config and "LLM-only" in note  # an EBM folder without its files is not a head
    (tmp_path / "ebm" / WEIGHTS_FILENAME).write_bytes(b"")
    (tmp_path / "ebm" / CONFIG_FILENAME).write_text("{}")
    config, note = demo_config(policy_url=URL, model=TrainedModel.find(tmp_path))
    assert config["ebm_path"] == str(tmp_path / "ebm") and config["encoder_url"] == URL and "EBM" in note
    spec = RunSpec.from_mapping(config, deployment={"policy_url": URL})
    assert spec.adapter == str(tmp_path / "adapter") and config["theorems"] == DEMO_THEOREMS


def test_the_shipped_model_is_what_the_demo_finds_and_sized_for_the_embedded_backbone():
    # data/embedded/model/ is an expert-iteration run's output (README): a peft adapter of SmolLM2-135M and an
    # energy head over its 576-wide embeddings, a few MB rather than the production 4096-wide shape
    import json

    from prover.value import load_energy_head

    model = TrainedModel.find()
    assert model.adapter is not None and model.ebm is not None
    adapter = json.loads((model.adapter / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "LORA" and adapter["r"] >= 1
    head = load_energy_head(model.ebm, expected_embedding_dim=576)
    assert sum(p.numel() for p in head.parameters()) < 2_000_000
    config, note = demo_config(policy_url=URL, model=model)
    assert config["search"]["probe_tactics"] == [] and "EBM" in note
