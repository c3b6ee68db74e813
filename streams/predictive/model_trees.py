"""A LightGBM binary model's trees as flat arrays, walked by a compiled kernel: each row's leaf
in every tree and the sum of a per-leaf table over them (``model_contributions``' path
attribution), in one pass and without LightGBM's per-call costs (about 2 us a row for a batch
of 200 through ``Booster.predict(pred_leaf=True)``, most of it converting and checking).

Compiled by numba (a dependency, ``compiled``); plain Python when it is missing (the same
results, far slower: ``PathAttribution`` then asks LightGBM for the leaves).

Invariants:
- the leaf of a row is LightGBM's (``Booster.predict(pred_leaf=True)`` on float64 rows): a
  value within ``ZERO`` of zero reads as 0 (LightGBM's dense rows leave it out); NaN reads as 0
  unless the split's missing type is NaN; a missing value (NaN for type NaN, zero for type
  Zero) goes the default way; else ``value <= threshold`` goes left. Only numerical ``<=``
  splits are read: ``Trees.from_dump`` returns None for any other model, which then keeps
  LightGBM's own prediction;
- the sums add each tree's table row in tree order to a row of zeros, the additions the
  sparse product of ``model_contributions`` makes (the same floats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from streams.kernel.compiled import jit as _jit

#: LightGBM's kZeroThreshold (1e-35f: a float literal widened to double)
ZERO: Final = float(np.float32(1e-35))
#: missing types, as coded in ``Trees.missing``
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
_MISSING: Final = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


@dataclass(frozen=True, eq=False)
class Trees:
    """Every split node of every tree, numbered in one sequence; a child below 0 is a leaf,
    ``-1 - (its row in the per-leaf table)`` (the tree's first row + its leaf index)."""

    roots: NDArray[np.int64]  # per tree: its root node, or its leaf (< 0) for a one-leaf tree
    feature: NDArray[np.int64]
    threshold: NDArray[np.float64]
    missing: NDArray[np.int64]
    default_left: NDArray[np.bool_]
    left: NDArray[np.int64]
    right: NDArray[np.int64]

    @staticmethod
    def from_dump(dump: dict[str, Any], offsets: list[int], model_text: str) -> Trees | None:
        """The trees of ``booster.dump_model()``, ``offsets`` the first table row of each; the
        thresholds from the model's text (the dump writes an infinite one as 1e300)."""
        thresholds = _thresholds(model_text)
        if len(thresholds) != len(dump["tree_info"]):
            return None
        nodes: list[tuple[int, float, int, bool]] = []
        children: list[list[int]] = []

        def add(node: dict[str, Any], first: int, cuts: list[float]) -> int | None:
            if "leaf_index" in node:
                return -1 - (first + int(node["leaf_index"]))
            if node.get("decision_type") != "<=" or node.get("missing_type") not in _MISSING:
                return None
            at = len(nodes)
            nodes.append((int(node["split_feature"]), cuts[int(node["split_index"])],
                          _MISSING[node["missing_type"]], bool(node["default_left"])))
            children.append([0, 0])
            for side, key in enumerate(("left_child", "right_child")):
                child = add(node[key], first, cuts)
                if child is None:
                    return None
                children[at][side] = child
            return at

        roots = []
        for tree, first, cuts in zip(dump["tree_info"], offsets, thresholds, strict=True):
            root = tree["tree_structure"]
            at = -1 - first if "split_feature" not in root else add(root, first, cuts)
            if at is None:
                return None
            roots.append(at)
        feature, threshold, missing, default_left = (list(c) for c in zip(*nodes, strict=True)) \
            if nodes else ([], [], [], [])
        return Trees(np.asarray(roots, dtype=np.int64), np.asarray(feature, dtype=np.int64),
                     np.asarray(threshold, dtype=np.float64), np.asarray(missing, dtype=np.int64),
                     np.asarray(default_left, dtype=np.bool_),
                     np.asarray([c[0] for c in children], dtype=np.int64),
                     np.asarray([c[1] for c in children], dtype=np.int64))

    def leaves(self, x: NDArray[np.float64]) -> NDArray[np.int64]:
        """(rows, trees): the table row of each row's leaf in each tree."""
        out = np.empty((x.shape[0], self.roots.shape[0]), dtype=np.int64)
        _leaves(np.ascontiguousarray(x, dtype=np.float64), self.roots, self.feature,
                self.threshold, self.missing, self.default_left, self.left, self.right, out)
        return out

    def sums(self, x: NDArray[np.float64], table: NDArray[np.float64]) -> NDArray[np.float64]:
        """(rows, table columns): each row's table rows of its leaves summed in tree order."""
        out = np.zeros((x.shape[0], table.shape[1]), dtype=np.float64)
        _sums(np.ascontiguousarray(x, dtype=np.float64), self.roots, self.feature,
              self.threshold, self.missing, self.default_left, self.left, self.right,
              np.ascontiguousarray(table), out)
        return out


def _thresholds(model_text: str) -> list[list[float]]:
    """Per tree of a LightGBM model's text, its split thresholds by split index (full
    precision, ``inf`` as written)."""
    out = []
    for block in model_text.split("\nTree=")[1:]:
        block = block.split("\n\n", 1)[0]
        line = next((x for x in block.splitlines() if x.startswith("threshold=")), "threshold=")
        out.append([float(v) for v in line.removeprefix("threshold=").split()])
    return out


@_jit
def _leaf(x: Any, i: int, node: int, feature: Any, threshold: Any, missing: Any,
          default_left: Any, left: Any, right: Any) -> int:
    while node >= 0:
        v = x[i, feature[node]]
        kind = missing[node]
        if v != v:
            if kind == MISSING_NAN:
                node = left[node] if default_left[node] else right[node]
                continue
            v = 0.0
        elif -ZERO <= v <= ZERO:
            v = 0.0
        if kind == MISSING_ZERO and v == 0.0:
            node = left[node] if default_left[node] else right[node]
        elif v <= threshold[node]:
            node = left[node]
        else:
            node = right[node]
    return -1 - node


@_jit
def _leaves(x: Any, roots: Any, feature: Any, threshold: Any, missing: Any, default_left: Any,
            left: Any, right: Any, out: Any) -> None:
    for i in range(x.shape[0]):
        for t in range(roots.shape[0]):
            out[i, t] = _leaf(x, i, roots[t], feature, threshold, missing, default_left, left,
                              right)


@_jit
def _sums(x: Any, roots: Any, feature: Any, threshold: Any, missing: Any, default_left: Any,
          left: Any, right: Any, table: Any, out: Any) -> None:
    width = table.shape[1]
    for i in range(x.shape[0]):
        for t in range(roots.shape[0]):
            row = _leaf(x, i, roots[t], feature, threshold, missing, default_left, left, right)
            for j in range(width):
                out[i, j] += table[row, j]
