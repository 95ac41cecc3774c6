"""Reference masks from the real packages that define each model family, through their own
public APIs (never a port): run by crates/maskgate/tests/library/real_parity.rs in the environment that
scripts/setup_parity.sh installs from the registries.

  real_reference.py rembg SESSION OUT PHOTO...   rembg.remove(bytes, session=new_session(SESSION),
                                                 only_mask=True) -> OUT/<stem>.png, the u8 mask
  real_reference.py mediapipe MODEL OUT PHOTO...  mediapipe.solutions.selfie_segmentation
                                                 .SelfieSegmentation(model_selection=MODEL)
                                                 .process(rgb).segmentation_mask -> OUT/<stem>.f32,
                                                 raw little-endian float32, row-major

The model files come from U2NET_HOME, which rembg reads without downloading when the file there
has the md5 it expects. Writes OUT/versions.json: the versions of the packages that ran."""
import json, os, sys
from importlib.metadata import version


def run_rembg(session_name, out, photos):
    from rembg import new_session, remove

    session = new_session(session_name)
    for photo in photos:
        with open(photo, "rb") as f:
            png = remove(f.read(), session=session, only_mask=True)
        stem = os.path.splitext(os.path.basename(photo))[0]
        with open(os.path.join(out, stem + ".png"), "wb") as f:
            f.write(png)
    return {p: version(p) for p in ("rembg", "pillow", "onnxruntime", "numpy")}


def run_mediapipe(model_selection, out, photos):
    import cv2
    import mediapipe as mp
    import numpy as np

    solution = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=int(model_selection))
    with solution as segmenter:
        for photo in photos:
            # As MediaPipe's own examples and tests read a photo.
            rgb = cv2.cvtColor(cv2.imread(photo), cv2.COLOR_BGR2RGB)
            mask = segmenter.process(rgb).segmentation_mask
            assert mask.shape == rgb.shape[:2] and mask.dtype == np.float32, (mask.shape, mask.dtype)
            stem = os.path.splitext(os.path.basename(photo))[0]
            mask.astype("<f4").tofile(os.path.join(out, stem + ".f32"))
    return {p: version(p) for p in ("mediapipe", "numpy", "opencv-contrib-python")}


def main():
    tool, *args = sys.argv[1:]
    if tool == "rembg":
        session, out, *photos = args
        versions = run_rembg(session, out, photos)
    elif tool == "mediapipe":
        model_selection, out, *photos = args
        versions = run_mediapipe(model_selection, out, photos)
    else:
        sys.exit(f"unknown tool {tool!r}")
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump(versions, f, sort_keys=True)


main()
