import json

import pytest
from conftest import SHARED

from loratune.errors import LoratuneError
from loratune.tasks import get_task

BANKING = SHARED / "datasets" / "banking77" / "train.csv"


@pytest.mark.skipif(not BANKING.exists(), reason="../shared/datasets/banking77 is not present")
def test_banking77_is_a_classification_task():
    task = get_task(data=BANKING, seed=0)
    assert task.kind == "classification" and len(task.labels) == 77
    assert (len(task.train), len(task.validation), len(task.test)) == (100, 256, 800)
    assert not {e.prompt for e in task.train} & {e.prompt for e in task.test}
    assert all(e.completion in task.labels for e in task.test)
    assert get_task(data=BANKING, seed=0) == task and get_task(data=BANKING, seed=1) != task


def test_jsonl_prompt_completion_is_extraction(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"prompt": f"Price of item {i}?", "completion": f"${i}"}) for i in range(150)
        )
    )
    task = get_task(data=path, n_train=100)
    assert task.kind == "extraction" and task.labels == ()
    assert len(task.train) == 100 and len(task.validation) + len(task.test) == 50


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("e.csv", "", "empty"),
        ("h.csv", "foo,bar\n1,2\n", "need prompt/completion or text/label"),
        ("b.jsonl", '{"text": "a", "label": "x"}\n[1, 2]\n', "b.jsonl:2"),
        ("n.jsonl", '{"text": "a", "label": ""}\n', "n.jsonl:1"),
        (
            "one.csv",
            "text,label\n" + "".join(f"t{i},same\n" for i in range(200)),
            "2 distinct labels",
        ),
        ("few.csv", "text,label\na,x\nb,y\n", "distinct rows"),
        ("f.txt", "hello", ".jsonl or .csv"),
    ],
)
def test_bad_files_fail_with_file_and_reason(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(LoratuneError, match=message):
        get_task(data=path)


def test_data_label_names_the_folder_when_the_file_names_a_split(tmp_path):
    from loratune.tasks.userdata import data_label

    (tmp_path / "banking77").mkdir()
    assert data_label(tmp_path / "banking77" / "train.csv") == "user-banking77"
    assert data_label(tmp_path / "tickets.jsonl") == "user-tickets"


@pytest.mark.parametrize("n_train", [100, None])  # the default size, and --n-train all
def test_a_small_file_is_told_sizes_that_fit_and_they_do(tmp_path, n_train):
    """60 rows cannot give 100 to train, nor 256 + 800 to validate and test: the error names
    sizes that fit, and those sizes work."""
    import re

    path = tmp_path / "small.csv"
    rows = [f"message {i} about thing {i % 3},{'abc'[i % 3]}" for i in range(60)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(LoratuneError) as err:
        get_task(data=path, n_train=n_train)
    sizes = dict(re.findall(r"--n-(val|test) (\d+)", str(err.value)))
    assert set(sizes) == {"val", "test"}, err.value
    task = get_task(data=path, n_train=None, n_val=int(sizes["val"]), n_test=int(sizes["test"]))
    assert (len(task.validation), len(task.test)) == (12, 12) and len(task.train) == 36
