"""Type stubs of maskgate's Python API."""

import os
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str
PathLike = Union[str, os.PathLike[str]]

class MaskgateError(Exception): ...

def run(config: PathLike, out: Optional[PathLike] = ..., **overrides: Any) -> Dict[str, Any]: ...
def compare(
    gold: Optional[PathLike],
    preds: Mapping[str, PathLike],
    baseline: str,
    *,
    config: Optional[PathLike] = ...,
    corpus: Optional[str] = ...,
    image_root: Optional[PathLike] = ...,
    out: Optional[PathLike] = ...,
    **options: Any,
) -> Dict[str, Any]: ...
def score(
    gt: npt.NDArray[Any],
    pred: npt.NDArray[Any],
    classes: Optional[Sequence[Optional[str]]] = ...,
    *,
    class_name: str = ...,
    ignore: Optional[int] = ...,
    boundary_ratio: float = ...,
) -> Dict[str, Any]: ...
def rle_encode(mask: npt.NDArray[Any]) -> Dict[str, Any]: ...
def rle_decode(rle: Mapping[str, Any]) -> npt.NDArray[np.uint8]: ...
