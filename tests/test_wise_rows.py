"""A grid's WiSE-FT row (``<strategy>+wise<α>``, hf_hybrid.experiments.variants.wise_ft_model) is exactly
(1−α)·base + α·fine-tuned, weight by weight: the numbers in its report rows are that model's and no other's."""

from __future__ import annotations

import pytest
import torch

TRAINED = ("encoder.layer.4.", "encoder.layer.5.")  # "fine-tuned": the top 2 of 6 layers, as freeze_layers does


@pytest.fixture(scope="module")
def runs(tmp_path_factory, minilm_path):
    """The base's state dict, and a folder holding a "fine-tuned" model: the base with its top two layers
    perturbed, everything else (embeddings, lower layers, pooler) left as the base's, as a frozen run leaves it."""
    from hf_hybrid.models import load_model

    base = load_model(minilm_path, device="cpu").state_dict()
    tuned = load_model(minilm_path, device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in tuned.state_dict().items():
            if tensor.is_floating_point() and any(part in name for part in TRAINED):
                tensor.add_(0.02 * torch.randn(tensor.shape, generator=generator))
    folder = tmp_path_factory.mktemp("tuned")
    tuned.save(str(folder))
    return base, folder


@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.75])
def test_a_wise_row_is_the_weight_average_of_base_and_fine_tuned(runs, alpha):
    from hf_hybrid.experiments.variants import wise_ft_model
    from hf_hybrid.models import load_model

    base, folder = runs
    tuned = load_model(str(folder), device="cpu").state_dict()
    averaged = wise_ft_model(base, folder, alpha).state_dict()
    assert averaged.keys() == tuned.keys() == base.keys()
    moved = 0
    for name, value in averaged.items():
        if not value.is_floating_point():  # integer buffers (position ids) are not weights: the run's own
            assert torch.equal(value, tuned[name]), name
        elif any(part in name for part in TRAINED):
            assert torch.equal(value, torch.lerp(base[name], tuned[name], alpha)), name
            assert not torch.equal(value, base[name]) and not torch.equal(value, tuned[name]), name
            moved += 1
        else:  # frozen in the run: the average is the base, bit for bit
            assert torch.equal(tuned[name], base[name]) and torch.equal(value, base[name]), name
    assert moved == 2 * 16  # every weight and bias of two BERT layers


def test_a_wise_row_scores_as_its_weights_do(runs, tmp_path):
    """What the grid scores for a ``+wise`` row (the averaged model run on the shared frozen prefix, as
    ``experiments.scoring`` runs it) equals the same weights built by the formula, loaded fresh and run whole."""
    from hf_hybrid.experiments.variants import wise_ft_model
    from hf_hybrid.frozen_prefix import served_prefix
    from hf_hybrid.models import load_model

    base, folder = runs
    tuned = load_model(str(folder), device="cpu").state_dict()
    texts = ["wo ni kuja soko", "where is the market", "où est le marché", "wo ni kuja soko leo asubuhi mapema"]
    row = wise_ft_model(base, folder, 0.25)
    with served_prefix(row, depth=4, root=tmp_path / "prefix"):  # the base's 4 frozen layers, stored once
        scored = row.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
    by_formula = load_model(str(folder), device="cpu")
    by_formula.load_state_dict({name: (0.75 * base[name] + 0.25 * value) if value.is_floating_point() else value
                                for name, value in tuned.items()})
    whole = by_formula.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
    assert torch.allclose(scored, whole, atol=1e-5)
    assert not torch.allclose(whole, load_model(str(folder), device="cpu").encode(
        texts, convert_to_tensor=True, normalize_embeddings=True), atol=1e-3)  # and it is not the fine-tuned model
