"""Regenerates every literal that crates/maskgate/tests/library/real_data.rs compares with, from the
reference tools themselves (never from maskgate):

- VOC export: palette indices of SegmentationClass/*.png as PIL reads them (255 = void);
- COCO export: pycocotools `COCO.annToMask` per annotation, a class the union of its instances;
- labelme JSON: shapes painted in file order, each one Pillow's `ImageDraw.polygon(xy, outline=1,
  fill=1)` as labelme's `shape_to_mask` draws it (`__ignore__` = void), and how many pixels of
  that label image differ from labelme's own arrays (SegmentationClassNpy/*.npy, -1 = void);
- labelme JSON with COCO's rule: each shape as pycocotools `frPyObjects` + `merge` + `decode`,
  painted in file order;
- imgaug's quokka: Pillow's polygon area, pycocotools' area and `toBbox`;
- FASSEG: pixels per class of named label files, RGB mapped to the nearest of the six palette
  colours (squared distance, first minimum), and the Train/Test file counts of V2.

Usage (after `bash scripts/setup.sh`, which fills vendor/data):
    vendor/py/bin/python -m pip install pillow==12.0.0 pycocotools==2.0.11   # numpy==2.3.5 is there
    vendor/py/bin/python tools/real_data_counts.py [--check crates/maskgate/tests/library/real_data.rs]
FASSEG is read from $MASKGATE_SHARED (default ../shared beside the repository). `--check` also
asserts that each printed value is the literal the test function compares with. Pillow 12.0.0
and 13.0.0 draw these polygons identically (the test's comments name 13.0.0, the version the
counts were first taken with)."""
import json, os, sys
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageDraw
from importlib.metadata import version
from pycocotools import mask as cocomask
from pycocotools.coco import COCO

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "vendor/data"
SHARED = Path(os.environ.get("MASKGATE_SHARED", ROOT.parent / "shared"))
if not SHARED.is_absolute():
    SHARED = (ROOT / SHARED).resolve()


def class_names():
    return (DATA / "voc/class_names.txt").read_text().splitlines()


def by_label(label_img, names, void=None):
    """{class: count} of a label image of indices into `names` (index 0, background, left out)."""
    out = {}
    for i, n in enumerate(names):
        if i == 0:
            continue
        c = int((label_img == i).sum())
        if c:
            out[n] = c
    if void is not None:
        c = int((label_img == void).sum())
        if c:
            out["void"] = c
    return dict(sorted(out.items()))


def voc():
    names = class_names()
    res = {}
    for png in sorted((DATA / "voc/SegmentationClass").glob("*.png")):
        a = np.array(Image.open(png))  # mode P: the palette indices
        res[png.stem] = by_label(a, names, void=255)
    return res


def coco():
    c = COCO(str(DATA / "coco/annotations.json"))
    cats = {k["id"]: k["name"] for k in c.loadCats(c.getCatIds())}
    res = {}
    for img in c.loadImgs(c.getImgIds()):
        per = {}
        for a in c.loadAnns(c.getAnnIds(imgIds=img["id"])):
            m = c.annToMask(a).astype(bool)
            name = cats[a["category_id"]]
            per[name] = per.get(name, np.zeros_like(m)) | m
        sid = os.path.splitext(img["file_name"])[0]
        res[sid] = dict(sorted((k, int(v.sum())) for k, v in per.items() if v.sum()))
    return dict(sorted(res.items()))


def pil_shape(points, h, w):
    im = Image.fromarray(np.zeros((h, w), np.uint8))
    ImageDraw.Draw(im).polygon([tuple(p) for p in points], outline=1, fill=1)
    return np.array(im).astype(bool)


def coco_shape(points, h, w):
    flat = [float(v) for p in points for v in p]
    return cocomask.decode(cocomask.merge(cocomask.frPyObjects([flat], h, w))).astype(bool)


def labelme_files():
    return sorted((DATA / "labelme").glob("*.json"))


def paint(f, shape_mask):
    """labelme2voc: label image of indices into class_names.txt, -1 for __ignore__, 0 elsewhere."""
    d = json.loads(f.read_text())
    h, w = d["imageHeight"], d["imageWidth"]
    names = class_names()
    lab = np.zeros((h, w), np.int32)
    for s in d["shapes"]:
        assert s.get("shape_type", "polygon") == "polygon", s.get("shape_type")
        idx = -1 if s["label"] == "__ignore__" else names.index(s["label"])
        lab[shape_mask(s["points"], h, w)] = idx
    return lab


def labelme(shape_mask):
    names = class_names()
    return {f.stem: by_label(paint(f, shape_mask), names, void=-1) for f in labelme_files()}


def labelme_vs_npy():
    out = {}
    for f in labelme_files():
        npy = np.load(DATA / "voc/SegmentationClassNpy" / f"{f.stem}.npy")
        out[f.stem] = int((paint(f, pil_shape) != npy).sum())
    return out


def quokka():
    d = json.loads((DATA / "quokka/quokka.json").read_text())
    h, w = d["imageHeight"], d["imageWidth"]
    (s,) = d["shapes"]
    flat = [float(v) for p in s["points"] for v in p]
    rle = cocomask.merge(cocomask.frPyObjects([flat], h, w))
    return {
        "size": (h, w),
        "pillow_area": int(pil_shape(s["points"], h, w).sum()),
        "coco_area": int(cocomask.area(rle)),
        "coco_bbox": tuple(int(v) for v in cocomask.toBbox(rle)),
    }


PALETTE = np.array(
    [[255, 0, 0], [127, 0, 0], [255, 255, 0], [0, 0, 255], [0, 255, 255], [0, 255, 0]], np.int64
)
FASSEG_FILES = [("V1", "Test/1"), ("V2", "Test/1"), ("V2", "Train/19"), ("V1", "Train/9")]


def fasseg():
    res = []
    for version, sid in FASSEG_FILES:
        split, name = sid.split("/")
        rgb = np.array(Image.open(SHARED / "data/fasseg" / version / f"{split}_Labels/{name}.bmp").convert("RGB"))
        d2 = ((rgb.astype(np.int64)[:, :, None, :] - PALETTE[None, None]) ** 2).sum(-1)
        idx = d2.argmin(-1)  # first minimum on ties
        res.append((version, sid, [int((idx == i).sum()) for i in range(1, 6)]))
    return res


def fasseg_splits():
    root = SHARED / "data/fasseg/V2"
    n = lambda split: len(list((root / f"{split}_RGB").rglob("*.bmp")))
    return (n("Train"), n("Test"), n("Train") + n("Test"))


def rust_expect(d):
    """The `expect(&[...])` argument as the test writes it, whitespace removed."""
    parts = []
    for sid, cs in d.items():
        parts.append('("%s",&[%s])' % (sid, ",".join('("%s",%d)' % kv for kv in cs.items())))
    return "expect(&[" + ",".join(parts) + ",])"


def main():
    print(f"pillow {PIL.__version__}, pycocotools {version('pycocotools')}, numpy {np.__version__}")
    checks = {}  # test function → strings its body must contain (whitespace removed)

    names = class_names()
    v = voc()
    print("voc classes (without _background_):", len(names) - 1)
    print("voc_palette_indices_and_void_match_labelmes_arrays:", v)
    checks["voc_palette_indices_and_void_match_labelmes_arrays"] = [
        f"c.classes.len(),{len(names) - 1},", rust_expect(v)]

    c = coco()
    print("coco_polygons_match_pycocotools:", c)
    checks["coco_polygons_match_pycocotools"] = [rust_expect(c)]

    lp = labelme(pil_shape)
    diff = labelme_vs_npy()
    print("labelme_json_gives_labelmes_own_masks:", lp)
    print("  pixels differing from labelme's .npy arrays:", diff)
    checks["labelme_json_gives_labelmes_own_masks"] = [
        rust_expect(lp),
        "BTreeMap::from([" + ",".join('("%s".to_string(),%d)' % kv for kv in diff.items()) + "])",
    ]

    lc = labelme(coco_shape)
    print("labelme_with_the_coco_rule_matches_pycocotools:", lc)
    iou_classes = ("person", "bus", "car", "sofa", "chair")
    pairs = sum(1 for sid, cs in lc.items() for k in iou_classes if k in cs and k in v.get(sid, {}))
    print("  (sample, class) pairs whose IoU with the VOC export is checked:", pairs)
    checks["labelme_with_the_coco_rule_matches_pycocotools"] = [
        rust_expect(lc), f"assert_eq!(compared,{pairs},"]

    q = quokka()
    print("quokka_polygon_matches_pillow_and_pycocotools:", q)
    checks["quokka_polygon_matches_pillow_and_pycocotools"] = [
        "assert_eq!(s.size,(%d,%d));" % q["size"],
        ".area(),%d);" % q["pillow_area"],
        "assert_eq!(m.area(),%d);" % q["coco_area"],
        "(%d,%d,%d,%d)" % q["coco_bbox"],
    ]

    f = fasseg()
    print("fasseg_class_pixels_match_numpy (hair, skin, eyes, nose, mouth):")
    for row in f:
        print("  ", row)
    checks["fasseg_class_pixels_match_numpy"] = [
        '("%s","%s",[%s])' % (ver, sid, ",".join(map(str, cs))) for ver, sid, cs in f]

    s = fasseg_splits()
    print("fasseg_split_and_formats_without_splits (train, test, all):", s)
    checks["fasseg_split_and_formats_without_splits"] = ["(%d,%d,%d)" % s]

    if "--check" in sys.argv:
        src = Path(sys.argv[sys.argv.index("--check") + 1]).read_text()
        bad = 0
        for fn, needles in checks.items():
            start = src.index(f"fn {fn}(")
            end = src.index("\n}\n", start)  # the function's closing brace, at column 0
            body = "".join(src[start:end].split())
            for n in needles:
                if n not in body:
                    bad += 1
                    print(f"MISMATCH in {fn}: {n} not found")
        print("check:", "all literals match" if not bad else f"{bad} mismatches")
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
