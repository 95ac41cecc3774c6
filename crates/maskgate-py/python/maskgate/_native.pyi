"""Type stubs of the compiled half of maskgate (see maskgate/__init__.py for the documented API)."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

class MaskgateError(Exception): ...

def run(
    config: str, options: Optional[Dict[str, Any]] = ...
) -> Tuple[str, List[str], List[str], List[str]]: ...
def compare(
    gold: Optional[str],
    preds: List[Tuple[str, str]],
    baseline: str,
    config: Optional[str] = ...,
    corpus: Optional[str] = ...,
    image_root: Optional[str] = ...,
    options: Optional[Dict[str, Any]] = ...,
) -> Tuple[str, List[str], List[str], List[str]]: ...
def score(
    gt: npt.NDArray[Any],
    pred: npt.NDArray[Any],
    classes: Optional[List[Optional[str]]] = ...,
    class_name: str = ...,
    ignore: Optional[int] = ...,
    boundary_ratio: float = ...,
) -> str: ...
def rle_encode(mask: npt.NDArray[Any]) -> Tuple[int, int, str]: ...
def rle_decode(h: int, w: int, counts: Any) -> npt.NDArray[np.uint8]: ...
def cli_main(argv: List[str]) -> int: ...
