"""The DigitNet family behaves like any timm model."""
import pytest
import timm
import torch

import digitsinsight  # noqa: F401 - registers the models


@pytest.mark.parametrize("name, max_params", [("digitnet_s", 100_000), ("digitnet_m", 500_000)])
def test_registered_and_built_by_timm(name, max_params):
    assert name in timm.list_models("digitnet*")
    model = timm.create_model(name).eval()
    cfg = model.pretrained_cfg
    assert tuple(cfg["input_size"]) == (1, 28, 28) and cfg["num_classes"] == 10
    assert list(cfg["label_names"]) == [str(d) for d in range(10)]
    assert len(cfg["mean"]) == len(cfg["std"]) == 1
    assert sum(p.numel() for p in model.parameters()) < max_params
    x = torch.randn(4, 1, 28, 28)
    features = model.forward_features(x)
    assert features.shape == (4, model.num_features, 7, 7)
    assert model.forward_head(features, pre_logits=True).shape == (4, model.num_features)
    assert torch.equal(model.forward_head(features), model(x))
    assert model(x).shape == (4, 10)


def test_classifier_can_be_reset():
    model = timm.create_model("digitnet_s")
    assert model.get_classifier() is model.fc
    model.reset_classifier(3)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 3)
    model.reset_classifier(0)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, model.num_features)


def test_timm_options_pass_through():
    model = timm.create_model("digitnet_m", num_classes=5, drop_rate=0.0)
    assert model(torch.randn(1, 1, 28, 28)).shape == (1, 5)
    features = timm.create_model("digitnet_s", features_only=True)(torch.randn(1, 1, 28, 28))
    assert [f.shape[-1] for f in features] == [28, 14, 7]


def test_rgb_input_reads_as_grey():
    """Pipelines turn grey into RGB; a 3-channel copy of a grey batch gives the same logits."""
    model = timm.create_model("digitnet_s").eval()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), model(x.expand(-1, 3, -1, -1)), atol=1e-6)
