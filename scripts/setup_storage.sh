#!/usr/bin/env bash
# Installs a real S3 API for the object-storage tests (crates/maskgate-cli/tests/object_store.rs):
# moto's server from PyPI, which the tests start on loopback. It honours `If-None-Match: *`, so
# the store itself refuses a second shard commit. boto3 comes with it (the tests' uploader).
# Also securesystemslib, the in-toto project's DSSE implementation, which checks maskgate's
# signed verdicts independently (tools/dsse_verify.py; its cryptography comes with moto).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
py=vendor/moto/bin/python
if [ ! -x "$py" ] || ! "$py" -c "
from importlib.metadata import version as v
assert v('moto') == '5.2.5'
assert v('securesystemslib') == '1.6.0'
import flask, boto3, securesystemslib.dsse" 2>/dev/null; then
  rm -rf vendor/moto
  python3 -m venv vendor/moto
  "$py" -m pip install -q --disable-pip-version-check "moto[server]==5.2.5" \
    securesystemslib==1.6.0
fi
