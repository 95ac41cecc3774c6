"""A maskgate gate on Modal: `map` over shard indices, then the merge, all on one Volume.

    modal volume create maskgate-gate
    modal volume put maskgate-gate gate.toml /gate.toml        # and the corpora, models
    modal run deploy/modal/maskgate_modal.py --config /vol/gate.toml --out /vol/out --shards 8
    modal volume get maskgate-gate /out/report.html .

The image carries the Linux maskgate binary (`cargo build --release`, copied from
target/release) and ONNX Runtime from PyPI. `--gpu` runs the CUDA build (`cargo build --release
--features cuda`) with onnxruntime-gpu on a GPU per shard. A `modal.CloudBucketMount` at /vol
works the same way: it is a mounted path to the same CLI.
"""

import subprocess

import modal

ORT = "1.31.1"
BINARY = "target/release/maskgate"
VOLUME = modal.Volume.from_name("maskgate-gate", create_if_missing=True)


def image(gpu: bool) -> modal.Image:
    wheel = f"onnxruntime-gpu=={ORT}" if gpu else f"onnxruntime=={ORT}"
    return (
        modal.Image.debian_slim(python_version="3.11")
        .pip_install(wheel)
        .add_local_file(BINARY, "/usr/local/bin/maskgate", copy=True)
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


@app.function(image=cpu_image, volumes={"/vol": VOLUME}, timeout=3600)
def merge(out: str) -> int:
    VOLUME.reload()
    return _run(["merge", out])


@app.local_entrypoint()
def main(config: str, out: str, shards: int = 8, gpu: bool = False):
    worker = shard_gpu if gpu else shard
    codes = list(worker.map(range(shards), kwargs={"count": shards, "config": config, "out": out}))
    if any(c != 0 for c in codes):
        raise SystemExit(f"shards failed permanently: {[i for i, c in enumerate(codes) if c != 0]}")
    raise SystemExit(merge.remote(out))
