"""Builds the crop-gate example's database: the crop service's tables (schema.sql) filled from
real photos and labels the setup already has, as the team's Django app would hold them.

- image: FASSEG V2's 20 train photos and labelme's 3 PASCAL VOC examples, copied into
  OUT/media/images/ (the MEDIA_ROOT the config's `images` points at).
- crop_run: one human-flagged run per photo (source.type = "human") with a reporter's note that
  maps to a failure class of criteria.toml (some say nothing that does, two have none), plus runs
  the flagged query must leave out: automatic runs, and a human run without an annotation.
- crop_annotation: the ground-truth foreground as a PNG (non-zero = foreground): FASSEG's
  labelled face classes (nearest palette colour, as maskgate's reader maps them), VOC's object
  classes with the 255 boundary band counted as object.

Writes OUT/app.db (SQLite) and OUT/app.pg.sql (the same rows for `psql -f`).
Usage: python build_db.py SHARED VENDOR OUT
"""
import io
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
FASSEG_PALETTE = np.array(
    [(255, 0, 0), (127, 0, 0), (255, 255, 0), (0, 0, 255), (0, 255, 255), (0, 255, 0)],
    dtype=np.int32,
)  # background first, then hair, skin, eyes, nose, mouth

NOTES = [
    "glare on the forehead was cut out with the background",
    "thin strands of hair at the edge were lost",
    "busy background behind her bled into the crop",
    "hard shadow under the chin kept in the crop",
    None,
    "shiny highlights on the cheek dropped from the mask",
    "crop cut off the top of the ear",
    "shelf in the background kept as foreground",
    "thin glasses frame missing from the cut-out",
    "shadow on the wall next to the head included",
    "reflection on the skin read as background",
    "cluttered background, edges look noisy",
]


def fasseg_mask(label_path):
    rgb = np.asarray(Image.open(label_path).convert("RGB"), dtype=np.int32)
    d = ((rgb[:, :, None, :] - FASSEG_PALETTE[None, None, :, :]) ** 2).sum(-1)
    return d.argmin(-1) != 0


def voc_mask(label_path):
    idx = np.asarray(Image.open(label_path))  # palette indices, never the colours
    return idx != 0


def png_bytes(mask):
    buf = io.BytesIO()
    Image.fromarray((mask * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def rows(shared, vendor, media):
    """(image rows, run rows, annotation rows) in a fixed order."""
    photos = []
    fasseg = shared / "data/fasseg/V2"
    for k in range(1, 21):
        photos.append((fasseg / f"Train_RGB/{k}.bmp", fasseg_mask(fasseg / f"Train_Labels/{k}.bmp"), f"fasseg-train-{k}.bmp"))
    voc = vendor / "data/voc"
    for stem in ["2011_000003", "2011_000006", "2011_000025"]:
        photos.append((voc / f"JPEGImages/{stem}.jpg", voc_mask(voc / f"SegmentationClass/{stem}.png"), f"voc-{stem}.jpg"))
    images, runs, annotations = [], [], []
    (media / "images").mkdir(parents=True, exist_ok=True)
    for n, (photo, mask, name) in enumerate(photos):
        shutil.copyfile(photo, media / "images" / name)
        w, h = Image.open(photo).size
        assert mask.shape == (h, w), (photo, mask.shape, (w, h))
        image_id = n + 1
        images.append((image_id, f"images/{name}", w, h))
        run_id = 1000 + n
        source = {"type": "human", "backend": "rembg-u2net", "deployment": "crop-prod", "version": "2.0.86"}
        runs.append((run_id, image_id, source, NOTES[n % len(NOTES)], f"2026-10-{1 + n % 28:02d}T09:00:00Z"))
        annotations.append((run_id, run_id, png_bytes(mask), ["ana", "ben", "chloe"][n % 3]))
    # Rows the query must not return: automatic runs, and a human run nobody annotated.
    for n, image_id in enumerate([1, 2, 3]):
        source = {"type": "auto", "backend": "rembg-u2net", "deployment": "crop-prod", "version": "2.0.86"}
        runs.append((2000 + n, image_id, source, None, "2026-10-30T09:00:00Z"))
    runs.append((3000, 4, {"type": "human", "backend": "rembg-u2net", "deployment": "crop-prod", "version": "2.0.86"},
                 "edge too soft around the hair", "2026-10-31T09:00:00Z"))
    return images, runs, annotations


def schema(dialect):
    text = (HERE / "schema.sql").read_text()
    json_type, bytes_type = ("text", "BLOB") if dialect == "sqlite" else ("jsonb", "bytea")
    return text.replace("JSON_TYPE", json_type).replace("BYTES_TYPE", bytes_type)


def write_sqlite(path, images, runs, annotations):
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(schema("sqlite"))
    db.executemany("INSERT INTO image VALUES (?, ?, ?, ?)", images)
    db.executemany("INSERT INTO crop_run VALUES (?, ?, ?, ?, ?)",
                   [(r[0], r[1], json.dumps(r[2]), r[3], r[4]) for r in runs])
    db.executemany("INSERT INTO crop_annotation VALUES (?, ?, ?, ?)", annotations)
    db.commit()
    db.close()


def sql_text(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def write_postgres(path, images, runs, annotations):
    out = [schema("postgres")]
    for i in images:
        out.append(f"INSERT INTO image VALUES ({i[0]}, {sql_text(i[1])}, {i[2]}, {i[3]});")
    for r in runs:
        out.append(f"INSERT INTO crop_run VALUES ({r[0]}, {r[1]}, {sql_text(json.dumps(r[2]))}, {sql_text(r[3])}, {sql_text(r[4])});")
    for a in annotations:
        out.append(f"INSERT INTO crop_annotation VALUES ({a[0]}, {a[1]}, '\\x{a[2].hex()}', {sql_text(a[3])});")
    path.write_text("\n".join(out) + "\n")


def main():
    shared, vendor, out = (Path(a) for a in sys.argv[1:4])
    out.mkdir(parents=True, exist_ok=True)
    images, runs, annotations = rows(shared, vendor, out / "media")
    write_sqlite(out / "app.db.tmp", images, runs, annotations)
    (out / "app.db.tmp").replace(out / "app.db")
    write_postgres(out / "app.pg.sql", images, runs, annotations)
    print(f"crop-gate: {len(images)} photos, {len(runs)} runs, {len(annotations)} annotations -> {out}")


if __name__ == "__main__":
    main()
