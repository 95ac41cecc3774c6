"""maskgate: decide, with numbers, whether a segmentation model may replace the one in production.

The same library as the ``maskgate`` command (which this package installs too):

- :func:`run` runs a config (corpora, model or prediction-file arms, criteria) and writes the
  reports, like ``maskgate run``;
- :func:`compare` scores gold labels against prediction files, like ``maskgate compare``;
- :func:`score` scores one pair of numpy masks with the same metrics and empty-mask policy;
- :func:`rle_encode` / :func:`rle_decode` read and write COCO RLE exactly as pycocotools does.

Errors in the input raise :class:`MaskgateError` with the library's message, and so does a
run in which an arm scored no sample (the command line exits 2; the reports are still written,
for the record). More than ``max_failed_share`` of an arm's samples failed (the config's
``[run]`` key or ``MASKGATE_MAX_FAILED_SHARE``, default 0.1) is a :class:`RuntimeWarning`
naming each cause, as the command line warns.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from typing import Any, Dict, Mapping, Optional, Sequence, Union

# ONNX Runtime's telemetry off unless the user asked for it: the runtime reads this once, when
# it loads for a run's models (maskgate.predict.engine.TELEMETRY_OFF_ENV).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from . import _native
from ._native import MaskgateError

__all__ = ["run", "compare", "score", "rle_encode", "rle_decode", "MaskgateError", "__version__"]
__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]
_log = logging.getLogger("maskgate")


def _finish(result: Any) -> Dict[str, Any]:
    report, notices, _written, failed_share = result
    for notice in notices:
        _log.info("%s", notice)
    if failed_share:
        # One warning for the run: each arm's summary line, then its causes.
        warnings.warn("many samples failed:\n" + "\n".join(failed_share), RuntimeWarning, stacklevel=3)
    return json.loads(report)


def run(config: PathLike, out: Optional[PathLike] = None, **overrides: Any) -> Dict[str, Any]:
    """Run the config ``config`` through the whole flow and write its reports.

    Returns the content of ``report.json`` as a dict: ``report["recommendation"]`` is
    ``"go"``, ``"no-go"`` or ``"inconclusive"`` when the config names criteria.

    Keyword overrides mirror the command line's flags and win over the environment and the
    config: ``threads``, ``intra_threads``, ``no_cache``, ``gallery``, ``formats`` (list),
    ``run_id``, ``generated_at``, ``grid``, ``pass_iou``, ``noise_epsilon``, ``strict``, ``cost``,
    ``cost_warmup``, ``cost_repeat``, ``top``, ``seed``, ``bootstrap``, ``criteria``, ``notes``,
    ``sign_key``, ``save_predictions``, ``exclude_suspects`` (the Python column of the settings
    table in
    docs/src/configuration.md).
    """
    overrides["out"] = out
    return _finish(_native.run(os.fspath(config), overrides))


def compare(
    gold: Optional[PathLike],
    preds: Mapping[str, PathLike],
    baseline: str,
    *,
    config: Optional[PathLike] = None,
    corpus: Optional[str] = None,
    image_root: Optional[PathLike] = None,
    out: Optional[PathLike] = None,
    **options: Any,
) -> Dict[str, Any]:
    """Score gold labels against the prediction files of each arm and compare with ``baseline``.

    ``gold`` is a gold NDJSON file (or ``None`` with ``config=`` naming a run config whose
    ``[[corpus]]`` is the ground truth, picked by ``corpus=``). ``preds`` maps arm name to a
    predictions JSONL file, in the order given. Writes the reports into ``out`` and returns the
    content of ``report.json`` as a dict. Other options as for :func:`run`, plus ``variants``.
    """
    options["out"] = out
    pairs = [(str(name), os.fspath(path)) for name, path in preds.items()]
    return _finish(
        _native.compare(
            None if gold is None else os.fspath(gold),
            pairs,
            baseline,
            None if config is None else os.fspath(config),
            corpus,
            None if image_root is None else os.fspath(image_root),
            options,
        )
    )


def score(
    gt: Any,
    pred: Any,
    classes: Optional[Sequence[Optional[str]]] = None,
    *,
    class_name: str = "foreground",
    ignore: Optional[int] = None,
    boundary_ratio: float = 0.02,
) -> Dict[str, Any]:
    """Score one predicted mask against its ground truth.

    ``gt`` and ``pred`` are 2-D numpy arrays of the same shape (height, width), read in place
    whatever their memory order. Without ``classes`` they are binary masks (bool or integers,
    non-zero = ``class_name``). With ``classes`` they are label maps: value ``i`` is class
    ``classes[i]`` (a ``None`` name is not scored), and ``ignore`` is a value left out of both
    sides. Returns ``{"classes": {name: {tp, fp, fn, then every registered metric: iou, dice,
    precision, recall, leakage, coverage, bbox_iou, boundary_iou, f05, boundary_error,
    extent_error, segment_error}}, "miou": ...,
    "fail_reason": ..., "fail_detail": ...}``
    with the command line's empty-mask policy (a metric undefined on empty masks is ``None``).
    """
    names = None if classes is None else list(classes)
    return json.loads(_native.score(gt, pred, names, class_name, ignore, boundary_ratio))


def rle_encode(mask: Any) -> Dict[str, Any]:
    """COCO RLE of a 2-D mask (non-zero = set): ``{"size": [h, w], "counts": str}``.

    The counts string equals pycocotools' ``mask.encode(np.asfortranarray(m))["counts"]``
    (decoded from bytes); the array may be C- or Fortran-ordered.
    """
    h, w, counts = _native.rle_encode(mask)
    return {"size": [h, w], "counts": counts}


def rle_decode(rle: Mapping[str, Any]) -> Any:
    """Decode COCO RLE (``{"size": [h, w], "counts": str | bytes | list[int]}``) into an (h, w)
    uint8 numpy array of 0 and 1."""
    try:
        h, w = rle["size"]
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError) as e:
        raise MaskgateError(f'an RLE needs "size": [h, w] and "counts", got {rle!r}') from e
    return _native.rle_decode(int(h), int(w), counts)
