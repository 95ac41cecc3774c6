# Sourced by the benchmarks that compare with numpy + pycocotools: the one pinned venv they
# share (bench/.work/venv), created on first use; sets $py to its interpreter.
if [ ! -x bench/.work/venv/bin/python ]; then
  python3 -m venv bench/.work/venv
  bench/.work/venv/bin/pip install -q numpy==2.3.5 pycocotools==2.0.10
fi
py=bench/.work/venv/bin/python
