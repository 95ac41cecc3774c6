"""scipy's paired tests on the cases in a JSON file, for maskgate's comparison test
(crates/maskgate-core/tests/scipy_reference.rs): the reference, never a port.

    python tools/scipy_paired_reference.py CASES.json

CASES.json is {"wilcoxon": [[d...], ...], "mcnemar": [[b, c], ...], "hl": [[d...], ...]}.
Prints JSON: each Wilcoxon case's statistic and p-value (scipy.stats.wilcoxon with its
defaults), each McNemar case's exact p (scipy.stats.binomtest(b, b + c, 0.5)), and each
Hodges-Lehmann case's shift and 95% interval, from the Walsh averages listed in full with
numpy and the critical value read off scipy's own Wilcoxon null distribution, as IEEE-754 bit
patterns (compared exactly).
"""

import json
import struct
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.stats._hypotests import _get_wilcoxon_distr


def bits(x):
    """A float's IEEE-754 bits as an integer: exact through any JSON parser."""
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def hodges_lehmann(d):
    d = np.asarray(d, dtype=float)
    n = len(d)
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2.0)
    m = len(walsh)
    shift = float(np.median(walsh))
    # Largest c with P(W+ <= c - 1) <= 0.025 under scipy's exact null distribution.
    cdf = np.cumsum(_get_wilcoxon_distr(n))
    c = int(np.sum(cdf <= 0.025))
    lo, hi = (walsh[0], walsh[-1]) if c == 0 else (walsh[c - 1], walsh[m - c])
    return [bits(shift), [bits(lo), bits(hi)]]


def main(path):
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    out = {"scipy": scipy.__version__, "wilcoxon": [], "mcnemar": [], "hl": []}
    for d in cases["wilcoxon"]:
        r = stats.wilcoxon(np.asarray(d, dtype=float))
        out["wilcoxon"].append([float(r.statistic), float(r.pvalue)])
    for b, c in cases["mcnemar"]:
        out["mcnemar"].append(float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0)
    for d in cases["hl"]:
        out["hl"].append(hodges_lehmann(d))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
