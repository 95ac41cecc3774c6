"""A maskgate gate on Modal: `map` over shard indices, then the merge, all on one Volume.

    modal volume create maskgate-gate
    modal volume put maskgate-gate gate.toml /gate.toml        # and the corpora, models
    modal run deploy/modal/maskgate_modal.py --config /vol/gate.toml --out /vol/out --shards 8
    modal volume get maskgate-gate /out/report.html .

The merge signs the verdict (an in-toto attestation, /out/attestation.dsse.json) with the key
in the Modal Secret `maskgate-sign-key` (MASKGATE_SIGN_KEY_PEM: the PEM `maskgate keygen` or
`openssl genpkey -algorithm ed25519` writes). With `--promote MODEL`, the deploy step runs only
after `maskgate verify` passes: a go, signed with that key, about that very model file, with
every file it names unchanged. The public key rides in the image (copy the gate's public key to
deploy/modal/maskgate.pub); promotion here copies the model into /vol/registry/, where the serving app loads it.

The image carries the Linux maskgate binary (`cargo build --release`, copied from
target/release) and ONNX Runtime from PyPI. `--gpu` runs the CUDA build (`cargo build --release
--features cuda`) with onnxruntime-gpu on a GPU per shard. A `modal.CloudBucketMount` at /vol
works the same way: it is a mounted path to the same CLI.
"""

import os
import shutil
import subprocess
import tempfile

import modal

ORT = "1.31.1"
BINARY = "target/release/maskgate"
PUBKEY = "deploy/modal/maskgate.pub"
VOLUME = modal.Volume.from_name("maskgate-gate", create_if_missing=True)


def image(gpu: bool) -> modal.Image:
    wheel = f"onnxruntime-gpu=={ORT}" if gpu else f"onnxruntime=={ORT}"
    return (
        modal.Image.debian_slim(python_version="3.11")
        .pip_install(wheel)
        .add_local_file(BINARY, "/usr/local/bin/maskgate", copy=True)
        .add_local_file(PUBKEY, "/etc/maskgate/maskgate.pub", copy=True)
        .run_commands("chmod +x /usr/local/bin/maskgate")
        .env({"MASKGATE_ORT_LIB": "/usr/local/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so." + ORT})
    )


app = modal.App("maskgate-gate")
cpu_image = image(gpu=False)
gpu_image = image(gpu=True)


def _run(args: list[str]) -> int:
    # 0 committed, 2 permanent (raise without retry), 3 retryable (raise: Modal retries).
    code = subprocess.run(["maskgate", *args]).returncode
    VOLUME.commit()
    if code == 3:
        raise RuntimeError(f"maskgate {args[0]}: retryable failure (exit 3)")
    return code


@app.function(image=cpu_image, volumes={"/vol": VOLUME}, cpu=2, timeout=6 * 3600,
              retries=modal.Retries(max_retries=2))
def shard(index: int, count: int, config: str, out: str) -> int:
    VOLUME.reload()
    return _run(["run", config, "--shard", f"{index}/{count}", "--out", out])


@app.function(image=gpu_image, volumes={"/vol": VOLUME}, gpu="T4", timeout=6 * 3600,
              retries=modal.Retries(max_retries=2))
def shard_gpu(index: int, count: int, config: str, out: str) -> int:
    VOLUME.reload()
    return _run(["run", config, "--shard", f"{index}/{count}", "--out", out])


@app.function(image=cpu_image, volumes={"/vol": VOLUME}, timeout=3600,
              secrets=[modal.Secret.from_name("maskgate-sign-key")])
def merge(out: str) -> int:
    VOLUME.reload()
    # The key goes to a private file for the run and is removed after; it never reaches a log.
    with tempfile.TemporaryDirectory() as keys:
        key = os.path.join(keys, "maskgate.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.environ["MASKGATE_SIGN_KEY_PEM"])
        return _run(["merge", out, "--sign-key", key])


@app.function(image=cpu_image, volumes={"/vol": VOLUME}, timeout=600)
def promote(out: str, model: str) -> int:
    """The deploy step: verify the signed verdict, then register the model. Nothing else
    promotes: exit 1 (a genuine no-go) or 2 (a forged or changed verdict) stops here."""
    VOLUME.reload()
    code = subprocess.run([
        "maskgate", "verify", f"{out}/attestation.dsse.json",
        "--pubkey", "/etc/maskgate/maskgate.pub", "--root", "/",
        "--model", model, "--require", "go",
    ]).returncode
    if code != 0:
        return code
    os.makedirs("/vol/registry", exist_ok=True)
    shutil.copy2(model, os.path.join("/vol/registry", os.path.basename(model)))
    VOLUME.commit()
    return 0


@app.local_entrypoint()
def main(config: str, out: str, shards: int = 8, gpu: bool = False, promote_model: str = ""):
    worker = shard_gpu if gpu else shard
    codes = list(worker.map(range(shards), kwargs={"count": shards, "config": config, "out": out}))
    if any(c != 0 for c in codes):
        raise SystemExit(f"shards failed permanently: {[i for i, c in enumerate(codes) if c != 0]}")
    code = merge.remote(out)
    if code == 0 and promote_model:
        code = promote.remote(out, promote_model)
    raise SystemExit(code)
