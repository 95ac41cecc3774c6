"""Decode vectors: a photo corpus covering what real JPEG and PNG files can be, written by Pillow
and by libjpeg-turbo's own `cjpeg`, and the RGB pixels the real tools decode from each file.

    python tools/decode_vectors.py OUT PHOTO...
    python tools/decode_vectors.py --encodings OUT PHOTO...

Run with the Python of vendor/parity-mp (Pillow 13 and OpenCV 4.11, each with its own bundled
libjpeg-turbo). Writes OUT/corpus/* and OUT/manifest.json, which lists for every file what
each tool gives:
  - "pillow": Image.open -> ImageOps.exif_transpose -> convert("RGB") (rembg's path);
  - "opencv": cv2.imread(path, cv2.IMREAD_COLOR), reordered to RGB (Ultralytics' path);
as {"w", "h", "rgb": "<file of raw RGB bytes>"} or {"error": "..."} when the tool refuses it.
crates/maskgate/tests/library/decode_vectors.rs decodes every file with maskgate and compares
the bytes. Deterministic: the same photos give the same corpus.

With --encodings, it only writes each photo the ways phones and pipelines write JPEG (baseline
4:2:0 q90, progressive q85, 4:4:4 q95, 4:2:2 q92, grey, optimised q75, CMYK) and with EXIF
orientations 3, 6 and 8 whose pixels are stored turned, so that `exif_transpose` gives the
photo back upright: the files the rembg parity test runs real rembg on.
"""

import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, ImageOps, features


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, rows, w, h, depth, ctype, plte=None, trns=None, exif=None, exif_after=False, extra=b""):
    """A PNG written byte by byte, so the stored samples are exactly `rows` (packed scanlines)."""
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if plte is not None:
        out += chunk(b"PLTE", plte)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    if exif is not None and not exif_after:
        out += chunk(b"eXIf", exif)
    out += extra + chunk(b"IDAT", zlib.compress(raw))
    if exif is not None and exif_after:
        out += chunk(b"eXIf", exif)
    out += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def pack(values, depth):
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(values), per):
        byte = 0
        for j in range(per):
            v = int(values[i + j]) if i + j < len(values) else 0
            byte |= v << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


def tiff_orientation(o, little=False):
    e = "<" if little else ">"
    head = (b"II*\x00" if little else b"MM\x00*") + struct.pack(e + "I", 8)
    return head + struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(e + "I", 0)


def tiff_orientation_long(o, little):
    e = "<" if little else ">"
    head = (b"II*\x00" if little else b"MM\x00*") + struct.pack(e + "I", 8)
    return head + struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x0112, 4, 1, o) + struct.pack(e + "I", 0)


def xmp(o):
    packet = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description tiff:Orientation="{o}"/></rdf:RDF></x:xmpmeta>'
    return b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode()


def with_segment(jpeg, marker, body):
    """`jpeg` with one more segment right after SOI."""
    return jpeg[:2] + struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body + jpeg[2:]


def adobe(transform):
    return b"Adobe" + struct.pack(">HHHB", 100, 0, 0, transform)


def synthetic(w, h, seed):
    """Gradients with noise and hard edges: every chroma path of the decoder gets work."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256], -1)
    img = img + rng.integers(-40, 41, img.shape)
    img[h // 3 : h // 2, w // 4 : w // 2] = [250, 10, 30]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def corpus(out, photos):
    os.makedirs(out, exist_ok=True)
    made = []

    def keep(name):
        made.append(name)
        return os.path.join(out, name)

    sources = [("syn", synthetic(97, 61, 7))]
    for i, p in enumerate(photos):
        sources.append((f"photo{i}", Image.open(p).convert("RGB")))
    for tag, img in sources:
        img.save(keep(f"{tag}-pil-420-q90.jpg"), quality=90, subsampling=2)
        img.save(keep(f"{tag}-pil-progressive-q85.jpg"), quality=85, progressive=True)
        img.save(keep(f"{tag}-pil-444-q95.jpg"), quality=95, subsampling=0)
        img.save(keep(f"{tag}-pil-422-q92.jpg"), quality=92, subsampling=1)
        img.save(keep(f"{tag}-pil-optimized-q75.jpg"), quality=75, optimize=True)
        img.convert("L").save(keep(f"{tag}-pil-gray.jpg"), quality=90)
        # CMYK: Pillow writes no Adobe marker; with transform 0 (CMYK) and 2 (YCCK, decoded by
        # libjpeg's YCCK path) added, each way a four-component file is read is covered.
        cmyk = os.path.join(out, f"{tag}-tmp-cmyk.jpg")
        img.convert("CMYK").save(cmyk, quality=95)
        data = open(cmyk, "rb").read()
        os.remove(cmyk)
        open(keep(f"{tag}-pil-cmyk.jpg"), "wb").write(data)
        open(keep(f"{tag}-pil-cmyk-adobe0.jpg"), "wb").write(with_segment(data, 0xEE, adobe(0)))
        open(keep(f"{tag}-pil-ycck-adobe2.jpg"), "wb").write(with_segment(data, 0xEE, adobe(2)))
        # Every EXIF orientation, in both byte orders.
        for o in range(1, 9):
            exif = Image.Exif()
            exif[0x0112] = o
            img.save(keep(f"{tag}-pil-exif{o}.jpg"), quality=90, exif=exif.tobytes())
        base = open(os.path.join(out, f"{tag}-pil-420-q90.jpg"), "rb").read()
        open(keep(f"{tag}-pil-exif6-le.jpg"), "wb").write(
            with_segment(base, 0xE1, b"Exif\x00\x00" + tiff_orientation(6, little=True)))
        # Where the tools' EXIF readers part: an orientation stored as a LONG (either byte
        # order), XMP alone (Pillow reads it, OpenCV does not), and XMP before EXIF.
        for little in (True, False):
            open(keep(f"{tag}-exif6-long-{'le' if little else 'be'}.jpg"), "wb").write(
                with_segment(base, 0xE1, b"Exif\x00\x00" + tiff_orientation_long(6, little)))
        open(keep(f"{tag}-xmp6.jpg"), "wb").write(with_segment(base, 0xE1, xmp(6)))
        exif3 = with_segment(base, 0xE1, b"Exif\x00\x00" + tiff_orientation(3))
        open(keep(f"{tag}-xmp6-before-exif3.jpg"), "wb").write(with_segment(exif3, 0xE1, xmp(6)))
        # libjpeg-turbo's own encoder: the subsamplings Pillow does not write, arithmetic
        # coding, restart markers, an RGB (untransformed) JPEG, progressive grey.
        ppm = os.path.join(out, f"{tag}.ppm")
        img.save(ppm)
        pgm = os.path.join(out, f"{tag}.pgm")
        img.convert("L").save(pgm)
        cjpeg = {
            "440": ["-sample", "1x2"],
            "411": ["-sample", "4x1"],
            "arithmetic": ["-arithmetic"],
            "restart": ["-restart", "1B", "-quality", "88"],
            "restart-rows": ["-restart", "2", "-progressive"],
            "rgb": ["-rgb", "-quality", "93"],
            "progressive-arithmetic": ["-progressive", "-arithmetic", "-sample", "2x2"],
        }
        for name, args in cjpeg.items():
            subprocess.run(["cjpeg", *args, "-outfile", keep(f"{tag}-cjpeg-{name}.jpg"), ppm], check=True)
        subprocess.run(["cjpeg", "-grayscale", "-progressive", "-outfile",
                        keep(f"{tag}-cjpeg-gray-progressive.jpg"), pgm], check=True)
        os.remove(ppm)
        os.remove(pgm)
        # Cut short inside the scan: both tools refuse or pad it; maskgate refuses it.
        open(keep(f"{tag}-truncated.jpg"), "wb").write(base[: len(base) * 2 // 3])

    # PNG in every colour type and depth, with values chosen to tell the tools' rules apart.
    w, h = 37, 23
    rng = np.random.default_rng(11)
    v16 = rng.integers(0, 65536, (h, w * 4)).astype(">u2")
    v16[:, :8] = rng.integers(0, 300, (h, 8))  # grey values just above 255: Pillow clips
    v8 = rng.integers(0, 256, (h, w * 4)).astype(np.uint8)
    rows16 = lambda c: [v16[y, : w * c].tobytes() for y in range(h)]
    rows8 = lambda c: [v8[y, : w * c].tobytes() for y in range(h)]
    write_png(keep("png-rgb16.png"), rows16(3), w, h, 16, 2)
    write_png(keep("png-rgba16.png"), rows16(4), w, h, 16, 6)
    write_png(keep("png-gray16.png"), rows16(1), w, h, 16, 0)
    write_png(keep("png-graya16.png"), rows16(2), w, h, 16, 4)
    write_png(keep("png-rgb8.png"), rows8(3), w, h, 8, 2)
    write_png(keep("png-rgba8.png"), rows8(4), w, h, 8, 6)
    write_png(keep("png-la8.png"), rows8(2), w, h, 8, 4)
    write_png(keep("png-gray8.png"), rows8(1), w, h, 8, 0)
    write_png(keep("png-gray8-trns.png"), rows8(1), w, h, 8, 0, trns=struct.pack(">H", 17))
    write_png(keep("png-rgb8-trns.png"), rows8(3), w, h, 8, 2, trns=struct.pack(">HHH", 1, 2, 3))
    for depth in (1, 2, 4):
        vals = rng.integers(0, 1 << depth, (h, w))
        write_png(keep(f"png-gray{depth}.png"), [pack(r, depth) for r in vals], w, h, depth, 0)
        plte = rng.integers(0, 256, 3 * (1 << depth)).astype(np.uint8).tobytes()
        write_png(keep(f"png-palette{depth}.png"), [pack(r, depth) for r in vals], w, h, depth, 3, plte=plte)
    idx = rng.integers(0, 256, (h, w)).astype(np.uint8)
    plte = rng.integers(0, 256, 768).astype(np.uint8).tobytes()
    trns = rng.integers(0, 256, 200).astype(np.uint8).tobytes()
    write_png(keep("png-palette8-trns.png"), [r.tobytes() for r in idx], w, h, 8, 3, plte=plte, trns=trns)
    write_png(keep("png-rgb8-exif6.png"), rows8(3), w, h, 8, 2, exif=tiff_orientation(6))
    write_png(keep("png-rgb8-exif3-after.png"), rows8(3), w, h, 8, 2, exif=tiff_orientation(3), exif_after=True)
    write_png(keep("png-gray16-exif8.png"), rows16(1), w, h, 16, 0, exif=tiff_orientation(8, little=True))
    # XMP in an iTXt chunk: Pillow turns the photo by it, OpenCV does not.
    packet = xmp(6)[len(b"http://ns.adobe.com/xap/1.0/\x00"):]
    itxt = chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet)
    write_png(keep("png-rgb8-xmp6.png"), rows8(3), w, h, 8, 2, extra=itxt)
    return made


# The transpose that stores an upright photo so that orientation `o` turns it back.
STORE_TURNED = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def encodings(out, photos):
    os.makedirs(out, exist_ok=True)
    for p in photos:
        stem = os.path.splitext(os.path.basename(p))[0]
        img = Image.open(p).convert("RGB")
        name = lambda kind: os.path.join(out, f"{stem}-{kind}.jpg")
        img.save(name("420-q90"), quality=90, subsampling=2)
        img.save(name("progressive-q85"), quality=85, progressive=True)
        img.save(name("444-q95"), quality=95, subsampling=0)
        img.save(name("422-q92"), quality=92, subsampling=1)
        img.convert("L").save(name("gray"), quality=90)
        img.save(name("optimized-q75"), quality=75, optimize=True)
        img.convert("CMYK").save(name("cmyk"), quality=95)
        for o, turn in STORE_TURNED.items():
            exif = Image.Exif()
            exif[0x0112] = o
            img.transpose(turn).save(name(f"exif{o}"), quality=90, exif=exif.tobytes())
            # The stored pixels really are turned, and Pillow turns them back.
            with Image.open(name(f"exif{o}")) as back:
                assert ImageOps.exif_transpose(back).size == img.size


def pillow_rgb(path):
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB"))


def opencv_rgb(path):
    import cv2  # only the decode-vector mode needs OpenCV (vendor/parity-mp has it)

    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("cv2.imread returned None")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def main():
    if sys.argv[1] == "--encodings":
        encodings(sys.argv[2], sys.argv[3:])
        return
    out, photos = sys.argv[1], sys.argv[2:]
    files = corpus(os.path.join(out, "corpus"), photos)
    refs = os.path.join(out, "reference")
    os.makedirs(refs, exist_ok=True)
    rows = []
    for name in files:
        path = os.path.join(out, "corpus", name)
        row = {"file": name}
        for tool, decode in (("pillow", pillow_rgb), ("opencv", opencv_rgb)):
            try:
                rgb = decode(path)
            except Exception as e:  # the tool refuses the file: recorded, compared as a refusal
                row[tool] = {"error": f"{type(e).__name__}: {e}"}
                continue
            raw = os.path.join(refs, f"{name}.{tool}.rgb")
            with open(raw, "wb") as f:
                f.write(rgb.tobytes())
            row[tool] = {"w": int(rgb.shape[1]), "h": int(rgb.shape[0]), "rgb": raw}
        rows.append(row)
    import cv2

    jpeg_line = [l.strip() for l in cv2.getBuildInformation().splitlines() if l.strip().startswith("JPEG:")]
    versions = {
        "pillow": PIL.__version__,
        "pillow_libjpeg_turbo": features.version("libjpeg_turbo"),
        "opencv": cv2.__version__,
        "opencv_jpeg": jpeg_line[0] if jpeg_line else None,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"versions": versions, "files": rows}, f, indent=1)


if __name__ == "__main__":
    main()
