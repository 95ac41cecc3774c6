"""The installed wheel: Python API against the CLI it ships, numpy and pycocotools.

Run from a fresh venv with the wheel, numpy and pycocotools installed:
    python -m unittest discover -s crates/maskgate-py/tests -v
"""

import json
import os
import struct
import zlib
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
from pycocotools import mask as coco_mask

import maskgate

RNG_SEED = 20261129
REPO = Path(__file__).resolve().parents[3]


def blob(rng, h, w):
    """A random filled ellipse plus salt: realistic runs and isolated pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ry, rx = rng.uniform(0.5, max(h / 2, 1)), rng.uniform(0.5, max(w / 2, 1))
    m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    m |= rng.random((h, w)) < 0.02
    return m


def coco_counts(m):
    return coco_mask.encode(np.asfortranarray(m.astype(np.uint8)))["counts"].decode("ascii")


def write_corpus(folder, rng, n=24, h=48, w=40):
    """A gold file and two prediction files (a close and a rough arm), in the NDJSON shape."""
    gold, close, rough = [], [], []
    for i in range(n):
        sid = f"s{i:03d}"
        g = {c: blob(rng, h, w) for c in ("skin", "hair")}
        near = {c: m ^ (rng.random((h, w)) < 0.03) for c, m in g.items()}
        far = {c: blob(rng, h, w) for c in g}
        line = lambda masks: {  # noqa: E731
            "id": sid,
            "masks": {c: {"size": [h, w], "counts": coco_counts(m)} for c, m in masks.items()},
        }
        gold.append({**line(g), "source": "a" if i % 2 else "b"})
        close.append(line(near))
        rough.append(line(far))
    paths = {}
    for name, lines in (("gold", gold), ("close", close), ("rough", rough)):
        p = Path(folder) / f"{name}.ndjson"
        p.write_text("".join(json.dumps(x) + "\n" for x in lines))
        paths[name] = p
    return paths


def png(path, w, h):
    """A grey 8-bit PNG (the YOLO reader needs each photo's size)."""
    raw = b"".join(b"\0" + bytes([128] * w) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def naive_counts(g, p):
    g, p = g.astype(bool), p.astype(bool)
    return int((g & p).sum()), int((~g & p).sum()), int((g & ~p).sum())


class RleMatchesPycocotools(unittest.TestCase):
    def test_encode_gives_pycocotools_strings_in_either_memory_order(self):
        rng = np.random.default_rng(RNG_SEED)
        shapes = [(1, 1), (1, 37), (37, 1), (64, 48), (97, 131)]
        for h, w in shapes:
            for trial in range(6):
                m = blob(rng, h, w) if trial % 2 else rng.random((h, w)) < rng.uniform(0, 1)
                expected = coco_counts(m)
                for arr in (np.ascontiguousarray(m), np.asfortranarray(m), m.astype(np.uint8)):
                    got = maskgate.rle_encode(arr)
                    self.assertEqual(got["size"], [h, w])
                    self.assertEqual(got["counts"], expected, (h, w, trial, arr.flags["C_CONTIGUOUS"]))
        # A strided view (every other column) is read in place, not misread.
        m = blob(rng, 50, 80)
        view = m[:, ::2]
        self.assertFalse(view.flags["C_CONTIGUOUS"] or view.flags["F_CONTIGUOUS"])
        self.assertEqual(maskgate.rle_encode(view)["counts"], coco_counts(np.array(view)))

    def test_decode_inverts_pycocotools(self):
        rng = np.random.default_rng(RNG_SEED + 1)
        for h, w in [(5, 7), (64, 48), (120, 33)]:
            m = blob(rng, h, w)
            rle = coco_mask.encode(np.asfortranarray(m.astype(np.uint8)))
            for counts in (rle["counts"], rle["counts"].decode("ascii")):
                out = maskgate.rle_decode({"size": rle["size"], "counts": counts})
                self.assertEqual(out.dtype, np.uint8)
                self.assertEqual(out.shape, (h, w))
                np.testing.assert_array_equal(out, coco_mask.decode(rle))
        # Uncompressed counts (the list form) too.
        out = maskgate.rle_decode({"size": [2, 3], "counts": [1, 2, 3]})
        np.testing.assert_array_equal(out, np.array([[0, 1, 0], [1, 0, 0]], dtype=np.uint8))


class ScoreMatchesNumpy(unittest.TestCase):
    def test_binary_masks(self):
        rng = np.random.default_rng(RNG_SEED + 2)
        for trial in range(40):
            h, w = rng.integers(1, 70, size=2)
            g = blob(rng, h, w) if trial % 3 else rng.random((h, w)) < 0.5
            p = g ^ (rng.random((h, w)) < rng.uniform(0, 0.4))
            for a, b in ((g, p), (np.asfortranarray(g.astype(np.uint8)), p.astype(np.int64))):
                s = maskgate.score(a, b)
                c = s["classes"]["foreground"]
                tp, fp, fn = naive_counts(g, p)
                self.assertEqual((c["tp"], c["fp"], c["fn"]), (tp, fp, fn))
                if tp + fp + fn:
                    self.assertAlmostEqual(c["iou"], tp / (tp + fp + fn), places=12)
                    self.assertAlmostEqual(c["dice"], 2 * tp / (2 * tp + fp + fn), places=12)
                self.assertEqual(s["miou"], c["iou"])

    def test_label_maps_with_class_names_and_ignore(self):
        rng = np.random.default_rng(RNG_SEED + 3)
        g = rng.integers(0, 4, size=(60, 50)).astype(np.uint8)
        p = np.where(rng.random(g.shape) < 0.8, g, rng.integers(0, 4, size=g.shape)).astype(np.uint8)
        g[:5, :] = 255  # void band
        s = maskgate.score(g, p, classes=[None, "skin", "hair", "cloth"], ignore=255)
        self.assertEqual(sorted(s["classes"]), ["cloth", "hair", "skin"])
        keep = g != 255
        for v, name in ((1, "skin"), (2, "hair"), (3, "cloth")):
            tp, fp, fn = naive_counts((g == v) & keep, (p == v) & keep)
            c = s["classes"][name]
            self.assertEqual((c["tp"], c["fp"], c["fn"]), (tp, fp, fn), name)
        ious = [s["classes"][n]["iou"] for n in ("skin", "hair", "cloth")]
        self.assertAlmostEqual(s["miou"], sum(ious) / 3, places=12)

    def test_empty_masks_follow_the_cli_policy(self):
        z = np.zeros((8, 8), dtype=bool)
        s = maskgate.score(z, z)
        self.assertIsNone(s["classes"]["foreground"]["iou"])
        self.assertIsNone(s["miou"])


class CompareEqualsTheCli(unittest.TestCase):
    def test_compare_gives_the_report_json_of_the_cli(self):
        rng = np.random.default_rng(RNG_SEED + 4)
        with tempfile.TemporaryDirectory() as d:
            paths = write_corpus(d, rng)
            pinned = ["--run-id", "py", "--generated-at", "2026-01-01T00:00:00Z", "--bootstrap", "300"]
            cli_out = Path(d) / "cli"
            # The console script the wheel installs beside this interpreter.
            maskgate_cmd = Path(sys.executable).parent / "maskgate"
            self.assertTrue(maskgate_cmd.is_file(), "the wheel installs the maskgate command")
            done = subprocess.run(
                [maskgate_cmd, "compare", "--gold", str(paths["gold"]),
                 "--pred", f"close={paths['close']}", "--pred", f"rough={paths['rough']}",
                 "--baseline", "rough", "--out", str(cli_out), "--corpus", "gold", *pinned],
                capture_output=True, text=True,
            )
            self.assertEqual(done.returncode, 0, done.stderr)
            py_out = Path(d) / "py"
            report = maskgate.compare(
                paths["gold"], {"close": paths["close"], "rough": str(paths["rough"])}, "rough",
                out=py_out, corpus="gold", run_id="py", generated_at="2026-01-01T00:00:00Z",
                bootstrap=300,
            )
            cli_report = json.loads((cli_out / "report.json").read_text())
            py_file = json.loads((py_out / "report.json").read_text())
            self.assertEqual(report, py_file, "the returned dict is the report.json written")

            def without_out(r):
                # The output folder is the one thing the two runs were told differently.
                return json.loads(json.dumps(r).replace(str(py_out), "OUT").replace(str(cli_out), "OUT"))

            self.assertEqual(without_out(report), without_out(cli_report))
            self.assertEqual((py_out / "metrics.csv").read_bytes(), (cli_out / "metrics.csv").read_bytes())
            rows = [r for r in report["metrics"] if r["arm"] == "close" and r["group_by"] == "all"]
            self.assertTrue(rows and all(r["n"] == 24 for r in rows), rows)

    def test_run_reads_a_yolo_dataset_and_coco_rle_predictions_as_they_are(self):
        """An Ultralytics dataset (data.yaml, images/, labels/) and COCO RLE prediction dumps,
        unchanged: the perfect arm scores IoU 1, the shifted one what numpy says."""
        h, w = 16, 20
        squares = {"a": (2, 3, 9, 8), "b": (5, 1, 15, 12), "c": (0, 0, 6, 6)}  # x0, y0, x1, y1 px
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            (d / "data.yaml").write_text("path: .\nval: images/val\nnames: [item]\n")
            perfect, shifted, ious = [], [], []
            for name, (x0, y0, x1, y1) in squares.items():
                png(d / "images" / "val" / f"{name}.png", w, h)
                poly = [x0, y0, x1, y0, x1, y1, x0, y1]
                norm = " ".join(f"{v / (w if i % 2 == 0 else h):.6f}" for i, v in enumerate(poly))
                (d / "labels" / "val").mkdir(parents=True, exist_ok=True)
                (d / "labels" / "val" / f"{name}.txt").write_text(f"0 {norm}\n")
                # COCO's polygon rule, as the reader fills YOLO labels.
                gt = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects([[float(v) for v in poly]], h, w)))
                moved = np.roll(gt, 2, axis=1)
                tp, fp, fn = naive_counts(gt, moved)
                ious.append(tp / (tp + fp + fn))
                sid = f"images/val/{name}"
                for lines, m in ((perfect, gt), (shifted, moved)):
                    rle = coco_mask.encode(np.asfortranarray(m.astype(np.uint8)))
                    lines.append({"id": sid, "masks": {"item": {"size": rle["size"], "counts": rle["counts"].decode()}}})
            for fname, lines in (("perfect.jsonl", perfect), ("shifted.jsonl", shifted)):
                (d / fname).write_text("".join(json.dumps(x) + "\n" for x in lines))
            (d / "maskgate.toml").write_text(
                '[run]\nbaseline = "shifted"\nbootstrap = 0\n'
                '[[corpus]]\nname = "heldout"\nformat = "yolo"\npath = "data.yaml"\n'
                '[[arm]]\nname = "perfect"\npredictions = "perfect.jsonl"\n'
                '[[arm]]\nname = "shifted"\npredictions = "shifted.jsonl"\n'
            )
            report = maskgate.run(d / "maskgate.toml", out=d / "out", gallery=0)
            row = lambda arm: next(  # noqa: E731
                r for r in report["metrics"]
                if r["arm"] == arm and r["group_by"] == "all" and r["class"] == "item"
            )
            self.assertEqual(row("perfect")["n"], 3)
            self.assertEqual(row("perfect")["iou_mean"], 1.0)
            self.assertAlmostEqual(row("shifted")["iou_mean"], sum(ious) / 3, places=12)
            self.assertTrue((d / "out" / "report.html").is_file())

    def test_mask_ap_is_cocoeval_s_on_coco_corpora(self):
        """COCO ground truth (polygons, RLE, crowds, empty images, a category without ground
        truth) and prediction files of instances (JSONL, and COCO's own results list): the
        report's 12 numbers per arm, overall and per class, equal pycocotools'
        COCOeval(gt, dt, "segm"); metrics.csv carries
        them; the Δ mAP interval is the same at one thread and at four. An image the prediction
        file has no line for counts its ground truth as missed, as COCOeval does."""
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        import contextlib
        import copy
        import io
        import random

        sys.path.insert(0, str(REPO / "tools"))
        import cocoeval_vectors as generator

        names12 = ["map", "map50", "map75", "map_small", "map_medium", "map_large",
                   "mar1", "mar10", "mar100", "mar_small", "mar_medium", "mar_large"]

        def cocoeval(doc, dts):
            out = {}
            with contextlib.redirect_stdout(io.StringIO()):
                gt = COCO()
                gt.dataset = doc
                gt.createIndex()
                dt = gt.loadRes(dts)
                for cats in [None] + [[c["id"]] for c in doc["categories"]]:
                    e = COCOeval(gt, dt, "segm")
                    if cats:
                        e.params.catIds = cats
                    e.evaluate()
                    e.accumulate()
                    e.summarize()
                    out["all" if cats is None else cats[0]] = [float(v) for v in e.stats]
            return out

        rng = random.Random(20261207)
        corpora = [("generated", *generator.generated_corpus(rng, 40))]
        labelme = REPO / "vendor/data/coco/annotations.json"
        self.assertTrue(labelme.is_file(), "scripts/setup.sh fetches the labelme COCO export")
        corpora.append(("labelme", *generator.labelme_corpus(rng, REPO)))
        maskgate_cmd = Path(sys.executable).parent / "maskgate"
        compared, missing = 0, 0
        for name, doc, dts in corpora:
            # A second arm: most detections kept, rescored.
            other = [dict(x, score=round(rng.random(), 3)) for x in dts if rng.random() < 0.8]
            cats = {c["id"]: c["name"] for c in doc["categories"]}
            with tempfile.TemporaryDirectory() as d:
                d = Path(d)
                (d / "gt.json").write_text(json.dumps(doc))
                for arm, arm_dts in (("cand", dts), ("base", other)):
                    by_image = {}
                    for x in arm_dts:
                        by_image.setdefault(x["image_id"], []).append(
                            {"class": cats[x["category_id"]], "score": x["score"], "mask": x["segmentation"]})
                    # The baseline's file has no line for an image without detections (as a COCO
                    # results export has none): its ground truth still counts, as misses.
                    lines = [{"id": im["file_name"].rsplit(".", 1)[0], "instances": by_image.get(im["id"], [])}
                             for im in doc["images"] if arm == "cand" or im["id"] in by_image]
                    (d / f"{arm}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
                # The same detections as COCO's own results file, as `COCO.loadRes` reads it.
                (d / "results.json").write_text(json.dumps(dts))
                (d / "maskgate.toml").write_text(
                    '[run]\nbaseline = "base"\nbootstrap = 300\n'
                    '[[corpus]]\nname = "c"\nformat = "coco"\npath = "gt.json"\n'
                    '[[arm]]\nname = "cand"\npredictions = "cand.jsonl"\n'
                    '[[arm]]\nname = "base"\npredictions = "base.jsonl"\n'
                    '[[arm]]\nname = "results"\npredictions = "results.json"\n')
                reports = []
                for threads in ("1", "4"):
                    done = subprocess.run([maskgate_cmd, "run", str(d / "maskgate.toml"), "--out", str(d / threads),
                                           "--threads", threads, "--gallery", "0"], capture_output=True, text=True)
                    self.assertEqual(done.returncode, 0, done.stderr)
                    reports.append(json.loads((d / threads / "report.json").read_text()))
                report = reports[0]
                missing += next(s for s in report["summaries"]
                                if s["arm"] == "base" and s["group_by"] == "all")["fail_rates"]["PRED_MISSING"]
                for arm, arm_dts in (("cand", dts), ("base", other), ("results", dts)):
                    rows = {r["class"]: r for r in report["instances"] if r["arm"] == arm and r["group_by"] == "all"}
                    self.assertEqual(rows["all"]["images"], len(doc["images"]), name)
                    # A copy: `loadRes` writes `bbox`, `area` and `id` into the detections.
                    for key, want in cocoeval(doc, copy.deepcopy(arm_dts)).items():
                        row = rows.get("all" if key == "all" else cats[key])
                        if row is None:
                            # A category the corpus does not evaluate (labelme's `_background_`)
                            # has no ground truth: COCOeval leaves it at −1 and out of the means.
                            self.assertEqual(want, [-1.0] * 12, f"{name} {key}")
                            compared += 12
                            continue
                        for stat, w in zip(names12, want):
                            got = -1.0 if row[stat] is None else row[stat]
                            # Equal: the same sums in the same order (categories in id order).
                            self.assertEqual(got, w, f"{name} {arm} {key} {stat}")
                            compared += 1
                    # metrics.csv: the `all` row holds the same numbers.
                    import csv
                    with open(d / "1" / "metrics.csv", newline="") as f:
                        all_row = next(r for r in csv.DictReader(f)
                                       if r["arm"] == arm and r["group_by"] == "all" and r["class"] == "all")
                    self.assertEqual(float(all_row["map"]), rows["all"]["map"])
                delta = lambda r: next(x for x in r["comparisons"][0]["summary_deltas"]  # noqa: E731
                                       if x["group_by"] == "all")
                self.assertIsNotNone(delta(report)["ci95"]["map"], name)
                self.assertEqual(delta(report)["ci95"]["map"], delta(reports[1])["ci95"]["map"])
                self.assertEqual(report["instances"], reports[1]["instances"])
        self.assertEqual(compared, 3 * 12 * (5 + 1 + len(json.loads(labelme.read_text())["categories"])))
        self.assertGreater(missing, 0, "some image had no baseline line")

    def test_convert_then_compare_reads_the_photos_as_written(self):
        """The README's route: a dataset converted to gold NDJSON in another folder, then
        compared with no image root given: every photo is read and the scores are real."""
        h, w = 16, 20
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            data = d / "dataset"
            data.mkdir()
            (data / "data.yaml").write_text("path: .\nval: images/val\nnames: [item]\n")
            for i, (x0, y0, x1, y1) in enumerate([(2, 3, 9, 8), (5, 1, 15, 12), (0, 0, 6, 6)]):
                png(data / "images" / "val" / f"p{i}.png", w, h)
                poly = [x0, y0, x1, y0, x1, y1, x0, y1]
                norm = " ".join(f"{v / (w if k % 2 == 0 else h):.6f}" for k, v in enumerate(poly))
                (data / "labels" / "val").mkdir(parents=True, exist_ok=True)
                (data / "labels" / "val" / f"p{i}.txt").write_text(f"0 {norm}\n")
            cmd = Path(sys.executable).parent / "maskgate"
            files = {}
            for name, erode in (("gold", 0), ("rough", 1)):
                files[name] = d / "reports" / f"{name}.ndjson"
                done = subprocess.run(
                    [cmd, "convert", "--format", "yolo", "--path", str(data / "data.yaml"),
                     "--out", str(files[name]), "--erode", str(erode)],
                    capture_output=True, text=True,
                )
                self.assertEqual(done.returncode, 0, done.stderr)
            maskgate.compare(files["gold"], dict(files), "gold", out=d / "out", bootstrap=0, gallery=0)
            samples = [json.loads(x) for x in (d / "out" / "samples.jsonl").read_text().splitlines()]
            self.assertEqual(len(samples), 6, samples)
            # A grey photo's luminance is its grey: the photo itself was read.
            self.assertTrue(all(s["properties"]["luminance"] == 128.0 for s in samples), samples)
            rough = [s["classes"]["item"]["iou"] for s in samples if s["arm"] == "rough"]
            self.assertTrue(len(rough) == 3 and all(0 < v < 1 for v in rough), rough)

    def test_cli_in_the_wheel_reports_its_version_and_usage_errors(self):
        ok = subprocess.run([sys.executable, "-m", "maskgate", "--version"], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0)
        self.assertIn(maskgate.__version__, ok.stdout)
        bad = subprocess.run([sys.executable, "-m", "maskgate", "compare"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--pred", bad.stderr)


    def test_import_turns_onnx_runtime_telemetry_off_unless_the_user_chose(self):
        probe = "import os, maskgate; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
        env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
        unset = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        self.assertEqual(unset.stdout.strip(), "1", unset.stderr)
        chosen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                env={**env, "ORT_DISABLE_TELEMETRY": "0"})
        self.assertEqual(chosen.stdout.strip(), "0", chosen.stderr)


class BadInputRaisesClearly(unittest.TestCase):
    def test_missing_gold_file_names_it(self):
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "nope.ndjson")
            with self.assertRaises(maskgate.MaskgateError) as e:
                maskgate.compare(missing, {"a": missing}, "a", out=os.path.join(d, "o"))
            self.assertIn("nope.ndjson", str(e.exception))

    def test_malformed_gold_line_names_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            gold = Path(d) / "gold.ndjson"
            gold.write_text('{"id": "a", "size": [2, 2], "masks": {}}\n{"id": "b", "masks": \n')
            with self.assertRaises(maskgate.MaskgateError) as e:
                maskgate.compare(gold, {"a": gold}, "a", out=Path(d) / "o")
            self.assertIn("gold.ndjson:2", str(e.exception))

    def test_an_arm_that_scored_nothing_raises_and_many_failures_warn(self):
        line = lambda sid: json.dumps(  # noqa: E731
            {"id": sid, "size": [2, 2], "masks": {"fg": {"size": [2, 2], "counts": [0, 4]}}}
        ) + "\n"
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            gold = d / "gold.ndjson"
            gold.write_text("".join(line(s) for s in "abcd"))
            # Predictions for none of the gold ids: every sample PRED_MISSING.
            nothing = d / "nothing.jsonl"
            nothing.write_text(line("z"))
            with self.assertRaises(maskgate.MaskgateError) as e:
                maskgate.compare(gold, {"gold": gold, "nothing": nothing}, "gold", out=d / "o1", bootstrap=0)
            self.assertIn("arm nothing scored no sample: all 4 failed", str(e.exception))
            self.assertIn("PRED_MISSING: 4 samples; to fix: ", str(e.exception))
            self.assertTrue((d / "o1" / "report.json").is_file(), "written for the record")
            # Three of four: 25% failed, above the default max_failed_share of 0.1.
            most = d / "most.jsonl"
            most.write_text("".join(line(s) for s in "abc"))
            with self.assertWarns(RuntimeWarning) as w:
                report = maskgate.compare(gold, {"gold": gold, "most": most}, "gold", out=d / "o2", bootstrap=0)
            self.assertIn("arm most: 1 of 4 samples failed (25.0%", str(w.warning))
            self.assertIn("PRED_MISSING: 1 sample; to fix: ", str(w.warning))
            self.assertEqual(report["corpora"][0]["samples"], 4)

    def test_bad_arrays_and_options(self):
        with self.assertRaisesRegex(ValueError, "differ in shape"):
            maskgate.score(np.zeros((3, 4), bool), np.zeros((4, 3), bool))
        with self.assertRaisesRegex(TypeError, "2-D numpy array"):
            maskgate.score(np.zeros((2, 3, 4), bool), np.zeros((2, 3, 4), bool))
        with self.assertRaisesRegex(TypeError, "2-D numpy array"):
            maskgate.rle_encode(np.zeros((3, 3), np.float32))
        with self.assertRaisesRegex(ValueError, "bad RLE"):
            maskgate.rle_decode({"size": [4, 4], "counts": [3, 2]})
        with self.assertRaisesRegex(ValueError, "limit"):
            maskgate.rle_decode({"size": [1 << 20, 1 << 20], "counts": [1]})
        with self.assertRaises(maskgate.MaskgateError):
            maskgate.rle_decode({"counts": "x"})
        with self.assertRaisesRegex(TypeError, "unknown option"):
            maskgate.run("x.toml", thread=2)


if __name__ == "__main__":
    unittest.main()
