"""benchmarks/DEVICE.md is what `device_check.py report` makes of the committed GPU results."""

from __future__ import annotations

from pathlib import Path

from benchmark_loader import load_benchmark

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_device_md_is_regenerated_from_the_committed_json(tmp_path):
    out = tmp_path / "DEVICE.md"
    load_benchmark("device_report").write_report(BENCH / "device", out)
    assert out.read_text() == (BENCH / "DEVICE.md").read_text()


def test_the_pick_is_read_from_the_cli_output_however_it_wraps():
    pick = load_benchmark("device_report")._pick
    said = (
        "x\nbest config: rank=8 alpha=16 lr=0.001 wd=0 validation accuracy 0.9, test \n"
        "accuracy 0.8 (verify, strategy s)\n"
    )
    assert pick({"stdout_tail": said}) == (
        "rank=8 alpha=16 lr=0.001 wd=0 validation accuracy 0.9, test accuracy 0.8"
    )
    assert pick({"stdout_tail": "error: no trial finished"}) is None
