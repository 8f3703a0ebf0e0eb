"""config.yaml is validated at start; errors name the key a user must fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def base() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def test_shipped_configs_are_valid():
    config = load_config(ROOT / "config.yaml")
    assert config.translate.routes["bg"] == "opus-mt-bg-en"
    assert config.models["nllb"].id == "facebook/nllb-200-distilled-600M"
    tiny = load_config(ROOT / "config.tiny.yaml")
    assert all(spec.path for spec in tiny.models.values())


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, base()))
    assert config.input_dir == tmp_path / "inbox"


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c["translate"]["routes"].update({"xx": "nllb"}), "unknown language code 'xx'"),
        (lambda c: c["translate"]["routes"].update({"ka": "nope"}), "translate.routes.ka"),
        (lambda c: c["models"]["nllb"].update({"id": "not a model id"}), "models.nllb.id"),
        (lambda c: c["translate"].update({"batch_tokens": -1}), "translate.batch_tokens"),
        (lambda c: c.update({"surprise": 1}), "surprise"),
        (lambda c: c["summarize"].update({"model": "missing"}), "summarize.model"),
    ],
)
def test_bad_config_is_refused_naming_the_key(tmp_path, mutate, key):
    data = base()
    mutate(data)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, data))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_a_config_written_for_the_old_grouping_still_loads(tmp_path, caplog):
    data = base()
    data.setdefault("digest", {})["text_weight"] = 0.5  # retired when names joined the TF-IDF vector
    with caplog.at_level("WARNING", logger="newsbrief.digest"):
        config = load_config(write(tmp_path, data))
    assert config.digest.name_weight == 2
    assert "digest.text_weight is no longer used" in caplog.text
    data["digest"]["text_wieght"] = 0.5  # a misspelt key is still refused
    with pytest.raises(ConfigError, match="text_wieght"):
        load_config(write(tmp_path, data))
