"""Generator networks: shapes, presets, costs, inputs."""
from __future__ import annotations

import pytest
import torch

from dip_teach import nets


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("preset", list(nets.PRESETS))
def test_every_preset_maps_input_to_an_image_in_0_1(preset):
    net = nets.build(preset, in_channels=8, out_channels=3)
    h, w = nets.input_shape(preset, 64, 96)
    out = net(nets.make_input("noise", 8, h, w, seed=0)).detach()
    assert out.shape == (1, 3, 64, 96)
    assert 0 <= float(out.min()) and float(out.max()) <= 1


def test_paper_preset_matches_the_paper_network():
    net = nets.build("paper")
    # the paper's denoising net: 5 scales x 128 channels, skip 4, ~2.2 M weights, 19.4 GMAC at 256x256
    assert 2.1e6 < nets.count_parameters(net) < 2.3e6
    assert 19.0e9 < nets.count_macs(net, 256) < 19.8e9
    cfg = nets.PRESETS["paper"]
    assert cfg.down == cfg.up == (128,) * 5 and cfg.skip == (4,) * 5


def test_hourglass_is_the_skip_builder_without_skips():
    hourglass, paper = nets.build("hourglass"), nets.build("paper")
    assert hourglass.config.skip == (0,) * 5
    assert not any(s.skip is not None for s in hourglass.modules() if isinstance(s, nets.Scale))
    assert nets.count_parameters(hourglass) < nets.count_parameters(paper)


def test_deep_decoder_has_only_1x1_convolutions_and_a_small_input():
    net = nets.build("deep_decoder")
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(m.kernel_size == (1, 1) for m in convs)
    assert nets.input_shape("deep_decoder", 128, 128) == (4, 4)


def test_presets_are_ordered_by_cost():
    macs = {p: nets.count_macs(nets.build(p), 128) for p in ("tiny", "lab", "paper")}
    assert macs["tiny"] < macs["lab"] < macs["paper"] / 3


def test_macs_scale_with_pixels():
    net = nets.build("tiny")
    assert nets.count_macs(net, 128) == 4 * nets.count_macs(net, 64)


def test_make_input_noise_is_seeded_and_in_the_papers_range():
    a = nets.make_input("noise", 32, 16, 16, seed=3)
    assert a.shape == (1, 32, 16, 16)
    assert torch.equal(a, nets.make_input("noise", 32, 16, 16, seed=3))
    assert not torch.equal(a, nets.make_input("noise", 32, 16, 16, seed=4))
    assert 0 <= float(a.min()) and float(a.max()) <= 0.1


def test_meshgrid_input_holds_coordinates():
    m = nets.make_input("meshgrid", 2, 8, 16)
    assert m.shape == (1, 2, 8, 16)
    assert float(m[0, 0, 0, -1]) == 1 and float(m[0, 1, -1, 0]) == 1 and float(m[0, :, 0, 0].sum()) == 0
    with pytest.raises(ValueError, match="2 channels"):
        nets.make_input("meshgrid", 32, 8, 8)


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="unknown network preset"):
        nets.build("huge")
    with pytest.raises(ValueError, match="one entry per scale"):
        nets.NetConfig(down=(8, 8), up=(8,), skip=(4,))
    with pytest.raises(ValueError, match="divide by 32"):
        nets.build("tiny")(torch.zeros(1, 32, 48, 48))
    with pytest.raises(ValueError, match="input kind"):
        nets.make_input("zeros", 3, 8, 8)


def test_default_preset_follows_the_run_mode():
    assert nets.build().config == nets.PRESETS["tiny"]   # conftest sets the test mode


def test_hourglass_removes_the_skips_of_any_preset():
    assert nets.hourglass("paper") == nets.PRESETS["hourglass"]
    lab = nets.hourglass("lab")
    assert lab.skip == (0,) * 5 and lab.upsample == "nearest" and lab.up == nets.PRESETS["lab"].up
    with pytest.raises(ValueError, match="skip networks"):
        nets.hourglass("deep_decoder")
