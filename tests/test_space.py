import math

import numpy as np
import pytest

from loratune.errors import LoratuneError
from loratune.space import (
    FEATURES,
    Config,
    Space,
    config_key,
    encode,
    load_space,
    varying_extras,
)
from loratune.strategies import design_configs, sobol_design


def test_seed_space_is_the_documents_grid():
    space = load_space("spaces/seed.toml")
    configs = space.configs()
    assert len(configs) == len(space) == 5 * 6 * 3
    assert {c.rank for c in configs} == {4, 8, 16, 32, 64}
    assert all(c.alpha == 2 * c.rank for c in configs)
    assert {c.learning_rate for c in configs} == {1e-5, 5e-5, 1e-4}


def test_bundled_name_loads_same_file():
    assert load_space("seed").configs() == load_space("spaces/seed.toml").configs()


def test_default_space_at_most_150():
    space = load_space("default")
    assert 1 < len(space) <= 150


@pytest.mark.parametrize(
    "text, message",
    [
        ("[grid\nrank = [1]", "malformed"),
        ("[grid]\nrank = [0]\nlearning_rate = [1e-3]", "rank"),
        ("[grid]\nrank = [4]\nlearning_rate = [-1e-3]", "learning_rate"),
        ("[grid]\nrank = [4]\nlearning_rate = [1e-3]\nbogus = [1]", "unknown parameter"),
        ("[grid]\nrank = 4\nlearning_rate = [1e-3]", "must be a list"),
        ("[grid]\nrank = []\nlearning_rate = [1e-3]", "empty list"),
        ("[fixed]\nrank = 4", "no [grid]"),
    ],
)
def test_bad_space_files_fail_clearly(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(LoratuneError, match=message.replace("[", r"\[")):
        load_space(path)


def test_missing_space_file():
    with pytest.raises(LoratuneError, match="not found"):
        load_space("nope/missing.toml")


def test_config_key_ignores_seed_and_is_stable():
    a = Config(rank=8, alpha=16, learning_rate=1e-3)
    b = Config(rank=8, alpha=16, learning_rate=1e-3, seed=3)
    c = Config(rank=16, alpha=32, learning_rate=1e-3)
    assert config_key(a) == config_key(b) != config_key(c)


def test_encode_uses_logs_and_handles_zero_weight_decay():
    x = encode([Config(rank=8, alpha=16, learning_rate=1e-3, weight_decay=0.0)])
    assert x.shape == (1, 6)
    assert x[0, 0] == 3 and math.isclose(x[0, 1], -3) and x[0, 2] == -7 and x[0, 3] == 2


def test_sobol_design_is_distinct_spread_and_deterministic():
    space = load_space("spaces/seed.toml")
    idx = sobol_design(space, 16, seed=1)
    assert len(set(idx)) == 16 and idx == sobol_design(space, 16, seed=1)
    ranks = [c.rank for c in design_configs(space, 16, seed=1)]
    # each of the 5 ranks is visited about 16/5 times
    assert set(ranks) == {4, 8, 16, 32, 64}
    assert max(np.bincount([r.bit_length() for r in ranks])) <= 5


def test_design_caps_at_grid_size():
    space = load_space("spaces/seed.toml")
    assert len(sobol_design(space, 1000)) == len(space)


def test_features_add_what_a_space_varies_beyond_the_base_six():
    assert load_space("default").features() == FEATURES  # fixed batch, length, modules
    space = Space(
        "wide",
        {
            "rank": (8, 16),
            "batch_size": (4, 16),
            "target_modules": (("q_proj", "v_proj"), ("q_proj", "k_proj", "v_proj", "o_proj")),
        },
        {"learning_rate": 1e-3, "max_length": 256},
    )
    names = space.features()
    extra = ("log2_batch_size", "module:k_proj", "module:o_proj", "module:q_proj", "module:v_proj")
    assert names == FEATURES + extra
    x = encode(space.configs(), names)
    assert x.shape == (8, 11)
    # Configs that differ only in batch size or modules no longer encode alike.
    assert len({tuple(row) for row in x}) == 8
    qv = Config(rank=8, alpha=16, learning_rate=1e-3, batch_size=16)
    assert list(encode([qv], names)[0, 6:]) == [4.0, 0.0, 0.0, 1.0, 1.0]
    np.testing.assert_array_equal(encode([qv], names)[:, :6], encode([qv]))


def test_describe_names_what_differs_from_the_defaults():
    plain = Config(rank=8, alpha=16, learning_rate=1e-3)
    assert plain.describe() == "rank=8 alpha=16 lr=0.001 wd=0" and plain.extras() == ""
    wide = Config(
        rank=8, alpha=16, learning_rate=1e-3, batch_size=16, target_modules=("q_proj", "k_proj")
    )
    assert wide.describe() == "rank=8 alpha=16 lr=0.001 wd=0 batch=16 modules=q_proj+k_proj"
    # A table shows the fields that vary among its rows, whatever their value.
    assert varying_extras([plain, wide]) == ("batch_size", "target_modules")
    assert plain.extras(("batch_size",)) == "batch=8"
    assert varying_extras([plain, plain]) == ()
