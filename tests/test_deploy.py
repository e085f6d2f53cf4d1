"""A saved adapter out of loratune: reload, merged model, GGUF adapter, try, evaluate, CLI.

All on tiny-llama (random init, seed 0, fp32 on the CPU), with adapters trained for one epoch.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from loratune.deploy import (
    evaluate_adapter,
    export_adapter,
    read_base_gguf,
    try_adapter,
    write_lora_gguf,
    write_model_card,
)
from loratune.deploy.gguf_lora import PROJECTIONS, rope_permute
from loratune.errors import LoratuneError
from loratune.models import smollm2_gguf
from loratune.space import Config, load_space
from loratune.trainer import run_trial
from loratune.trainer.adapters import META_FILE, attached, read_meta, write_meta
from loratune.trainer.evaluate import accuracy

ALL_TARGETS = tuple(PROJECTIONS)  # every projection llama.cpp maps, q and k included
# Merged vs attached logits, fp32: W x + s B (A x) against (W + s B A) x differ only by
# rounding in a different summation order, about 1e-6 here; 1e-4 leaves room and is still
# far below the adapter's own effect on the logits (asserted > 1e-2 in the test).
MERGE_ATOL = 1e-4


def _train(base, task, config: Config, folder: Path) -> dict:
    """Train one trial and save its adapter; loratune.json as the trainer writes it."""
    result = run_trial(base, task, config, save_adapter=folder)
    if not (folder / META_FILE).is_file():  # an older trainer saved only PEFT's files
        write_meta(
            folder,
            {
                "model": base.name,
                "config": config.to_dict(),
                "task": task.describe(),
                "seed": config.seed,
                "validation_accuracy": result.curve[-1],
                "test_accuracy": result.accuracy,
            },
        )
    return read_meta(folder)


@pytest.fixture(scope="module")
def cls_adapter(tiny_base, toy_task, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("deploy") / "cls"
    config = Config(
        rank=4, alpha=8, learning_rate=1e-2, epochs=1, batch_size=4, target_modules=ALL_TARGETS
    )
    _train(tiny_base, toy_task, config, folder)
    return folder


@pytest.fixture(scope="module")
def ext_adapter(tiny_base, toy_extract_task, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("deploy") / "ext"
    config = Config(rank=2, alpha=4, learning_rate=1e-2, epochs=1, batch_size=8)
    _train(tiny_base, toy_extract_task, config, folder)
    return folder


def _raw_text(prompt: str) -> str:
    """The input text inside a formatted prompt (`...\\nInput: TEXT\\nAnswer:`)."""
    return prompt.split("\nInput: ", 1)[1].rsplit("\nAnswer:", 1)[0]


def _write_csv(path: Path, examples) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows([_raw_text(e.prompt), e.completion] for e in examples)
    return path


# --- reload and evaluate -------------------------------------------------------------------


def test_reload_reproduces_recorded_accuracy(tiny_base, toy_task, cls_adapter):
    meta = read_meta(cls_adapter)
    max_len = meta["config"]["max_length"]
    with attached(tiny_base, cls_adapter) as model:
        val = accuracy(
            model, tiny_base.tokenizer, toy_task, toy_task.validation, "cpu", False, max_len
        )
        test = accuracy(model, tiny_base.tokenizer, toy_task, toy_task.test, "cpu", False, max_len)
    assert val == meta["validation_accuracy"]  # exactly: same weights, same code
    if meta.get("test_accuracy") is not None:
        assert test == meta["test_accuracy"]
    assert not any("lora" in n for n, _ in tiny_base.model.named_modules())  # taken off again


def test_evaluate_file_gives_recorded_accuracy_with_interval(
    tiny_base, toy_task, cls_adapter, tmp_path
):
    data = _write_csv(tmp_path / "val.csv", toy_task.validation)
    ev = evaluate_adapter(cls_adapter, data, base=tiny_base)
    assert ev.accuracy == read_meta(cls_adapter)["validation_accuracy"]
    assert ev.n == len(toy_task.validation) and ev.correct == round(ev.accuracy * ev.n)
    assert 0.0 <= ev.low <= ev.accuracy <= ev.high <= 1.0


def test_evaluate_refuses_unknown_labels(tiny_base, toy_task, cls_adapter, tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("text,label\nmy parcel is late,shipping\nhello,greeting\n")
    with pytest.raises(LoratuneError, match=r"bad.csv:3: label 'greeting'"):
        evaluate_adapter(cls_adapter, data, base=tiny_base)


def test_evaluate_of_a_folder_names_a_file_in_it(tiny_base, cls_adapter, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("train.csv", "test.csv"):
        (folder / name).write_text("text,label\nmy parcel is late,shipping\n")
    with pytest.raises(LoratuneError, match=r"is a folder; evaluate reads one data file.*test"):
        evaluate_adapter(cls_adapter, folder, base=tiny_base)


# --- try -----------------------------------------------------------------------------------


def test_try_answers_like_the_scorer(tiny_base, toy_task, cls_adapter):
    """Tried one by one, the validation texts are answered right exactly as often as the
    recorded validation accuracy says: try uses the trial's scoring code."""
    meta = read_meta(cls_adapter)
    answers = [
        try_adapter(cls_adapter, _raw_text(e.prompt), base=tiny_base) for e in toy_task.validation
    ]
    assert [a.prompt for a in answers] == [e.prompt for e in toy_task.validation]
    hits = sum(a.answer == e.completion for a, e in zip(answers, toy_task.validation, strict=True))
    assert hits / len(answers) == meta["validation_accuracy"]
    res = try_adapter(cls_adapter, "my card was charged twice", compare=True, base=tiny_base)
    assert res.answer in meta["task"]["labels"] and res.base_answer in meta["task"]["labels"]


def test_try_extraction(tiny_base, toy_extract_task, ext_adapter):
    res = try_adapter(ext_adapter, "Order 123 costs $42 today.", compare=True, base=tiny_base)
    assert res.prompt == "Extract the price.\nInput: Order 123 costs $42 today.\nAnswer:"
    assert isinstance(res.answer, str) and "\n" not in res.answer
    assert res.base_answer is not None


# --- PEFT folder and model card -------------------------------------------------------------


def test_peft_export_has_card_and_reproducible_space(cls_adapter, tmp_path):
    out = export_adapter(cls_adapter, "peft", tmp_path / "peft")
    meta = read_meta(out)  # still a loratune adapter folder
    card = (out / "README.md").read_text()
    assert "base_model: tiny-llama" in card and meta["task"]["data_sha256"] in card
    assert f"{meta['validation_accuracy']:.3f}" in card and "Wilson" in card
    assert "loratune sweep --domain toy --model tiny-llama --space reproduce.toml" in card
    space = load_space(str(out / "reproduce.toml"))
    (config,) = space.configs()
    assert config.to_dict() == {**meta["config"], "seed": config.seed}
    write_model_card(out, meta, {"regret": 0.012, "speedup": 4.5})
    assert "| regret | 0.012 |" in (out / "README.md").read_text()


# --- merged model --------------------------------------------------------------------------


def test_merged_logits_equal_base_plus_adapter(tiny_base, cls_adapter, tmp_path):
    from transformers import AutoModelForCausalLM

    out = export_adapter(cls_adapter, "merged", tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(str(out)).eval()
    ids = torch.tensor([tiny_base.tokenizer("Classify: my parcel is lost.\nAnswer:")["input_ids"]])
    with torch.no_grad():
        plain = tiny_base.model(ids).logits
        with attached(tiny_base, cls_adapter) as model:
            adapted = model(ids).logits
        got = merged(ids).logits
    assert (adapted - plain).abs().max() > 1e-2  # the adapter changes something
    torch.testing.assert_close(got, adapted, atol=MERGE_ATOL, rtol=0)
    assert (out / "tokenizer.json").is_file() and (out / "README.md").is_file()


# --- GGUF ----------------------------------------------------------------------------------


def test_gguf_adapter_holds_peft_matrices_under_llama_cpp_names(tiny_base, cls_adapter, tmp_path):
    import gguf
    from safetensors.torch import load_file

    cfg = tiny_base.model.config
    n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    path = write_lora_gguf(cls_adapter, tmp_path / "a.gguf", n_head=n_head, n_head_kv=n_kv)
    reader = gguf.GGUFReader(str(path))
    assert reader.get_field("general.type").contents() == "adapter"
    assert reader.get_field("general.architecture").contents() == "llama"
    assert reader.get_field("adapter.type").contents() == "lora"
    assert reader.get_field("adapter.lora.alpha").contents() == 8.0
    tensors = {t.name: t for t in reader.tensors}
    peft = load_file(str(cls_adapter / "adapter_model.safetensors"))
    assert len(tensors) == len(peft) == 2 * 2 * len(ALL_TARGETS)  # 2 layers, A and B each
    for key, value in peft.items():
        layer = int(key.split(".layers.")[1].split(".")[0])
        target = key.split(".lora_")[0].rsplit(".", 1)[1]
        ab = "a" if ".lora_A." in key else "b"
        t = tensors[f"blk.{layer}.{PROJECTIONS[target]}.weight.lora_{ab}"]
        want = value.float().numpy()
        if ab == "b" and target in ("q_proj", "k_proj"):  # llama.cpp's rotary row order
            want = rope_permute(want, n_head if target == "q_proj" else n_kv)
        # ggml lists dimensions fastest first: lora_a [in, r], lora_b [r, out]
        assert tuple(t.shape) == tuple(reversed(value.shape))
        np.testing.assert_array_equal(np.asarray(t.data).reshape(want.shape), want)


def test_rope_permute_is_llama_cpps_row_order():
    rows = np.arange(2 * 8)[:, None]  # 2 heads of 8 rows: halves [0..3 | 4..7] per head
    got = rope_permute(rows, 2)[:, 0].tolist()
    assert got == [0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]


def _smollm2_shaped_adapter(folder: Path, meta_from: Path) -> Path:
    """A one-layer adapter with SmolLM2-135M's shapes (random B), saved without loading
    SmolLM2: enough for export to check it against the real base GGUF."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=32,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=1,
        num_attention_heads=9,
        num_key_value_heads=3,
    )
    model = get_peft_model(
        LlamaForCausalLM(cfg), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj"])
    )
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p)
    model.save_pretrained(str(folder))
    meta = {**read_meta(meta_from), "model": "smollm2-135m"}
    write_meta(folder, meta)
    return folder


def test_gguf_export_smollm2_has_base_adapter_and_modelfile(cls_adapter, tmp_path):
    import gguf

    adapter = _smollm2_shaped_adapter(tmp_path / "smol", cls_adapter)
    out = export_adapter(adapter, "gguf", tmp_path / "gguf")
    _, base_name = smollm2_gguf()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["Modelfile", "README.md", "adapter.gguf", base_name, "reproduce.toml"]
    )
    base = read_base_gguf(out / base_name)
    assert (base.arch, base.n_head, base.n_head_kv) == ("llama", 9, 3)
    names = {t.name for t in gguf.GGUFReader(str(out / "adapter.gguf")).tensors}
    assert names == {f"blk.0.attn_{p}.weight.lora_{ab}" for p in "qk" for ab in "ab"}
    modelfile = (out / "Modelfile").read_text()
    assert f"FROM ./{base_name}\nADAPTER ./adapter.gguf\n" in modelfile
    instruction = read_meta(cls_adapter)["task"]["instruction"]
    assert f'TEMPLATE """{instruction}\nInput: {{{{ .Prompt }}}}\nAnswer:"""' in modelfile


def test_gguf_refusals(cls_adapter, tmp_path):
    with pytest.raises(LoratuneError, match="no GGUF file of base model 'tiny-llama'"):
        export_adapter(cls_adapter, "gguf", tmp_path / "a")
    assert not (tmp_path / "a").exists()  # refused before anything was written
    # A tiny-llama adapter claimed for SmolLM2: llama.cpp would reject the shapes; so do we.
    wrong = shutil.copytree(cls_adapter, tmp_path / "wrong")
    write_meta(wrong, {**read_meta(cls_adapter), "model": "smollm2-135m"})
    with pytest.raises(LoratuneError, match="another base model"):
        export_adapter(wrong, "gguf", tmp_path / "b")
    # What GGUF cannot carry: the LM head (tied to the embeddings in SmolLM2), DoRA.
    cfg_path = wrong / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    for change, message in (
        ({"target_modules": ["q_proj", "lm_head"]}, "lm_head"),
        ({"target_modules": ["embed_tokens"]}, "embed_tokens"),
        ({"use_dora": True}, "DoRA"),
    ):
        cfg_path.write_text(json.dumps({**cfg, **change}))
        with pytest.raises(LoratuneError, match=message):
            export_adapter(wrong, "gguf", tmp_path / "c")


# --- CLI: bad input is one line on stderr and exit 2 ----------------------------------------


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the `loratune` entry point (cli.main) in this process."""
    from loratune.cli import main

    monkeypatch.setattr(sys, "argv", ["loratune", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_bad_input_is_one_line_exit_2(monkeypatch, capsys, cls_adapter, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "adapter_config.json").write_text("{}")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    o = str(tmp_path / "o")
    cases = {
        "not found": ["deploy", "--adapter", str(tmp_path / "nope"), "--out", o],
        "not a loratune adapter": ["try", "--adapter", str(foreign), "hello"],
        "unknown format 'onnx'": [
            "deploy", "--adapter", str(cls_adapter), "--format", "onnx", "--out", o
        ],
        "is a file": ["deploy", "--adapter", str(cls_adapter), "--out", str(a_file / "sub")],
        "not empty": ["deploy", "--adapter", str(cls_adapter), "--out", str(full)],
        "data file not found": [
            "evaluate", "--adapter", str(cls_adapter), "--data", str(tmp_path / "none.csv")
        ],
    }  # fmt: skip
    for expected, args in cases.items():
        code, _, err = _cli(monkeypatch, capsys, *args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and expected in err, err
    assert sorted(p.name for p in full.iterdir()) == ["keep.txt"]


def test_cli_unwritable_target(monkeypatch, capsys, cls_adapter, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        probe = locked / "probe"
        probe.mkdir()  # root (a container) writes anyway: nothing to test then
        pytest.skip("running as root: a read-only folder is still writable")
    except PermissionError:
        pass
    code, _, err = _cli(
        monkeypatch, capsys, "deploy", "--adapter", str(cls_adapter), "--out", str(locked / "o")
    )
    assert code == 2 and err.count("\n") == 1 and "permission denied" in err


def test_cli_deploy_try_evaluate(monkeypatch, capsys, toy_task, cls_adapter, tmp_path):
    code, out, _ = _cli(
        monkeypatch, capsys, "deploy", "--adapter", str(cls_adapter), "--out", str(tmp_path / "p")
    )
    assert code == 0 and "adapter_model.safetensors" in out
    labels = read_meta(cls_adapter)["task"]["labels"]
    code, out, _ = _cli(
        monkeypatch, capsys, "try", "--adapter", str(cls_adapter), "--compare", "--device", "cpu",
        "parcel lost",
    )  # fmt: skip
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[-1] in labels and lines[1].startswith("base:")
    data = _write_csv(tmp_path / "val.csv", toy_task.validation)
    code, out, _ = _cli(
        monkeypatch, capsys, "evaluate", "--adapter", str(cls_adapter), "--data", str(data)
    )
    assert code == 0 and f"/{len(toy_task.validation)})" in out and "Wilson" in out
