"""GoalConditionedEnergyHead: size, spectral norm, damping, temperature, input checks, determinism."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead, expected_parameter_count
from prover.value.spectral_norm_linear import SpectralNormLinear


def spectral_norm_of(weight: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(weight.detach().double(), ord=2))


def test_seed_size_head_has_about_25m_parameters() -> None:
    head = GoalConditionedEnergyHead(EnergyHeadConfig())
    count = sum(p.numel() for p in head.parameters())
    # 12288*2048 + 2048 + 2048*1024 + 1024 + 1024*512 + 512 + 512*1 + log_temperature
    assert count == 27_791_361 == expected_parameter_count(head.config)
    # BurnQED's notes call this "~25M"; the exact count for the same shape is 27.8M.
    assert 25_000_000 <= count <= 28_000_000
    widths = [(layer.in_features, layer.out_features) for layer in head.layers]
    assert widths == [(12288, 2048), (2048, 1024), (1024, 512), (512, 1)]


def test_smaller_backbones_scale_the_hidden_widths() -> None:
    assert EnergyHeadConfig.for_embedding_dim(576).hidden_dims == (288, 144, 72)
    head = GoalConditionedEnergyHead(EnergyHeadConfig.for_embedding_dim(64))
    assert [layer.in_features for layer in head.layers] == [192, 32, 16, 8]


def test_every_layer_is_spectrally_normalised(tiny_config: EnergyHeadConfig) -> None:
    torch.manual_seed(1)
    head = GoalConditionedEnergyHead(tiny_config)
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear | SpectralNormLinear)]
    assert linears == list(head.layers) and len(linears) == 4
    head.eval()
    for i, layer in enumerate(head.layers):
        expected = tiny_config.first_layer_scale if i == 0 else 1.0
        assert spectral_norm_of(layer.effective_weight()) == pytest.approx(expected, rel=1e-2)
        # The raw weights are nowhere near norm 1, so the normalisation is doing the work.
        assert spectral_norm_of(layer.weight) > 1.2
    head.train()
    for i, layer in enumerate(head.layers):
        expected = tiny_config.first_layer_scale if i == 0 else 1.0
        # Option C: 5 iterations from a fresh random start underestimate sigma slightly, never overestimate.
        norm = spectral_norm_of(layer.effective_weight())
        assert expected * 0.999 <= norm <= expected * 1.25


def test_training_forward_restarts_power_iteration_from_a_fresh_random_vector(tiny_head) -> None:
    layer = tiny_head.layers[1].train()
    x = torch.randn(4, layer.in_features)
    torch.manual_seed(10)
    layer(x)
    u_first = layer.u.clone()
    torch.manual_seed(11)
    layer(x)
    # Same weights, different random start: a warm-started estimate would have been reused unchanged.
    assert not torch.equal(u_first, layer.u)
    torch.manual_seed(10)
    layer(x)
    assert torch.equal(u_first, layer.u)


def test_naive_weight_damping_is_undone_by_spectral_norm(tiny_head) -> None:
    layer = tiny_head.layers[0]
    before = layer.effective_weight().detach().clone()
    with torch.no_grad():
        layer.weight.mul_(0.1)
    # W / sigma(W) is scale-invariant: BurnQED's `weight.data *= 0.1` changes nothing.
    torch.testing.assert_close(layer.effective_weight().detach(), before)


def test_first_layer_damping_scales_the_first_layer_output(tiny_config: EnergyHeadConfig) -> None:
    torch.manual_seed(2)
    damped = GoalConditionedEnergyHead(tiny_config).eval()
    undamped = GoalConditionedEnergyHead(EnergyHeadConfig(**{**tiny_config.to_dict(), "first_layer_scale": 1.0}))
    undamped.load_state_dict(damped.state_dict())
    undamped.eval()
    with torch.no_grad():
        for head in (damped, undamped):
            head.layers[0].bias.normal_()  # biases start at 0; make them visible so only W x is scaled
        undamped.layers[0].bias.copy_(damped.layers[0].bias)

    z_state, z_goal = torch.randn(8, 64), torch.randn(8, 64)
    x = torch.cat((z_state, z_goal, z_state * z_goal), dim=-1)
    with torch.no_grad():
        outputs = {"damped": damped.layers[0](x), "undamped": undamped.layers[0](x)}
        # The damping reaches the energies: the heads differ only in it, and their energies differ.
        assert not torch.allclose(damped(z_state, z_goal), undamped(z_state, z_goal))
    bias = damped.layers[0].bias.detach()
    torch.testing.assert_close(outputs["damped"] - bias, 0.1 * (outputs["undamped"] - bias), rtol=1e-4, atol=1e-6)
    assert float((outputs["undamped"] - bias).abs().mean()) > 0.01


def test_temperature_is_clamped_and_divides_the_energy(tiny_head) -> None:
    z_state, z_goal = torch.randn(5, 64), torch.randn(64)
    assert float(tiny_head.temperature.detach()) == pytest.approx(1.0)
    with torch.no_grad():
        raw = tiny_head.raw_energy(z_state, z_goal)
        for log_t, expected_tau in ((math.log(2.5), 2.5), (10.0, 10.0), (-10.0, 0.1)):
            tiny_head.log_temperature.fill_(log_t)
            assert float(tiny_head.temperature.detach()) == pytest.approx(expected_tau, rel=1e-5)
            torch.testing.assert_close(tiny_head(z_state, z_goal), raw / expected_tau)


def test_temperature_learns_inside_its_range_and_stops_at_the_clamp(tiny_head) -> None:
    tiny_head.train()
    z_state, z_goal = torch.randn(5, 64), torch.randn(64)
    tiny_head(z_state, z_goal).sum().backward()
    assert tiny_head.log_temperature.grad is not None and float(tiny_head.log_temperature.grad) != 0.0
    tiny_head.zero_grad()
    with torch.no_grad():
        tiny_head.log_temperature.fill_(50.0)
    tiny_head(z_state, z_goal).sum().backward()
    assert float(tiny_head.log_temperature.grad) == 0.0


def test_output_is_one_energy_per_state_and_a_single_goal_broadcasts(tiny_head) -> None:
    z_state, z_goal = torch.randn(7, 64), torch.randn(64)
    with torch.no_grad():
        batched = tiny_head(z_state, z_goal)
        per_row_goal = tiny_head(z_state, z_goal.expand(7, 64))
        one = tiny_head(z_state[3], z_goal)
    assert batched.shape == (7, 1)
    torch.testing.assert_close(batched, per_row_goal)
    torch.testing.assert_close(one[0], batched[3])


def test_eval_mode_is_deterministic_and_tracks_weight_updates(tiny_head) -> None:
    z_state, z_goal = torch.randn(6, 64), torch.randn(64)
    with torch.no_grad():
        first = tiny_head(z_state, z_goal)
        torch.testing.assert_close(tiny_head(z_state, z_goal), first, rtol=0, atol=0)
        # The cached normalised weights must notice an in-place update (what an optimiser step does).
        tiny_head.layers[2].weight.add_(torch.randn_like(tiny_head.layers[2].weight))
        changed = tiny_head(z_state, z_goal)
    assert not torch.allclose(changed, first)
    # The uncached, differentiable path (grad enabled) sees the update too and agrees.
    torch.testing.assert_close(tiny_head(z_state, z_goal).detach(), changed)
    fresh = copy.deepcopy(tiny_head)
    with torch.inference_mode():
        torch.testing.assert_close(fresh(z_state, z_goal), changed)


def test_inference_path_is_the_same_function_as_the_training_path(tiny_head) -> None:
    z_state, z_goal = torch.randn(6, 64), torch.randn(64)
    with torch.no_grad():
        tiny_head.log_temperature.fill_(math.log(3.0))
        for layer in tiny_head.layers[:-1]:
            layer.bias.normal_()
    differentiable = tiny_head(z_state, z_goal)  # eval mode, grad enabled: the training code path
    assert differentiable.requires_grad
    with torch.inference_mode():
        fast = tiny_head(z_state, z_goal)
    torch.testing.assert_close(fast, differentiable.detach())
    torch.testing.assert_close(fast, tiny_head.raw_energy(z_state, z_goal).detach() / 3.0)


@pytest.mark.parametrize(
    ("z_state", "z_goal", "message"),
    [
        (torch.randn(3, 32), torch.randn(64), r"z_state must have shape \(batch, 64\)"),
        (torch.randn(3, 64), torch.randn(2, 64), "z_goal has 2 rows but z_state has 3"),
        (torch.randn(3, 64, 1), torch.randn(64), "z_state must have shape"),
    ],
)
def test_wrong_shapes_are_clear_errors(tiny_head, z_state, z_goal, message) -> None:
    with pytest.raises(ValueError, match=message):
        tiny_head(z_state, z_goal)


def test_integer_embeddings_are_rejected(tiny_head) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        tiny_head(torch.ones(2, 64, dtype=torch.long), torch.randn(64))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"hidden_dims": ()}, "hidden_dims"),
        ({"dropout": 1.0}, "dropout"),
        ({"temperature_init": 20.0}, "temperature"),
        ({"first_layer_scale": 0.0}, "first_layer_scale"),
        ({"embedding_text_format": "chat"}, "unknown; known"),
    ],
)
def test_invalid_configs_name_the_bad_field(change, message) -> None:
    with pytest.raises(ValueError, match=message):
        EnergyHeadConfig(**{**EnergyHeadConfig().to_dict(), **change})
