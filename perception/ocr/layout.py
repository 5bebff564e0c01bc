"""Words -> visual rows -> cells: the reading order of a page, tolerant of a few degrees of skew.

Both engines return boxes in no useful order, and a phone photo of a table is never level: across a
1,200 px row a 3 degree tilt moves the last column by more than one line pitch, so grouping words by
their raw y collapses neighbouring rows. We first estimate the page's slope from pairs of words that
sit side by side, straighten the word centres by it, and only then cluster by vertical distance
relative to the median word height.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perception.ocr.engines import OcrWord

# Two centres in one row differ by less than this many median word heights (after straightening).
ROW_TOLERANCE = 0.5
# A horizontal gap wider than this many median word heights starts a new cell (a new table column);
# a word space is about a quarter of a line's height, a column gap several heights.
COLUMN_GAP = 0.9
# Skew estimates beyond this slope (about 8.5 degrees) are noise, not a tilted page.
MAX_SLOPE = 0.15
CELL_SEPARATOR = "  "


def _centre(word: OcrWord) -> tuple[float, float]:
    x0, y0, x1, y1 = word.box
    return (x0 + x1) / 2, (y0 + y1) / 2


def _height(word: OcrWord) -> float:
    return max(word.box[3] - word.box[1], 1.0)


def median_height(words: list[OcrWord]) -> float:
    return statistics.median(_height(w) for w in words) if words else 1.0


Point = tuple[float, float, float, float]  # x0, x1, centre x, centre y (straightened by the current slope)


def _right_neighbour(point: Point, points: list[Point], height: float) -> Point | None:
    """The nearest point to the right that plausibly shares the line (level enough, modest gap)."""
    best: Point | None = None
    best_cost = math.inf
    for other in points:
        gap = other[0] - point[1]
        dy = abs(other[3] - point[3])
        if other is point or gap < -0.2 * height or gap > 12 * height or dy > 0.8 * height:
            continue
        # Near and level beats near alone: two rows' cells in one column start at almost the same x.
        cost = max(gap, 0.0) + 4 * dy
        if cost < best_cost:
            best, best_cost = other, cost
    return best


def _residual_slope(points: list[Point], height: float) -> float | None:
    """Median dy/dx between side-by-side words far enough apart for the slope to mean something."""
    slopes = []
    for point in points:
        other = _right_neighbour(point, points, height)
        if other is not None and other[2] - point[2] > 2 * height:
            slopes.append((other[3] - point[3]) / (other[2] - point[2]))
    return statistics.median(slopes) if len(slopes) >= 3 else None


def estimate_slope(words: list[OcrWord]) -> float:
    """The page's dy/dx. Refined in a few passes: at larger tilts the first pass only trusts nearby
    words, and each straightening lets the next pass pair words across wider column gaps."""
    height = median_height(words)
    slope = 0.0
    for _ in range(3):
        points = [(w.box[0], w.box[2], cx, cy - slope * cx) for w in words for cx, cy in [_centre(w)]]
        residual = _residual_slope(points, height)
        if residual is None:
            break
        slope += residual
        if abs(residual) < 0.002:
            break
    return slope if abs(slope) <= MAX_SLOPE else 0.0


def group_rows(words: list[OcrWord]) -> list[list[OcrWord]]:
    """Words grouped into visual rows top to bottom, each row sorted left to right."""
    words = [w for w in words if w.text.strip()]
    if not words:
        return []
    height = median_height(words)
    slope = estimate_slope(words)
    # A shear is enough for a few degrees: straightened y = y - slope * x.
    keyed = sorted(words, key=lambda w: _centre(w)[1] - slope * _centre(w)[0])
    rows: list[list[OcrWord]] = []
    row_ys: list[list[float]] = []
    for word in keyed:
        cx, cy = _centre(word)
        y = cy - slope * cx
        if rows and abs(y - statistics.fmean(row_ys[-1])) <= ROW_TOLERANCE * height:
            rows[-1].append(word)
            row_ys[-1].append(y)
        else:
            rows.append([word])
            row_ys.append([y])
    return [sorted(row, key=lambda w: w.box[0]) for row in rows]


def row_cells(row: list[OcrWord], height: float) -> list[str]:
    """Merge words closer than a column gap into one cell (joined by a space)."""
    cells: list[str] = []
    right_edge: float | None = None
    for word in row:
        text = word.text.strip()
        if right_edge is not None and word.box[0] - right_edge < COLUMN_GAP * height:
            cells[-1] = f"{cells[-1]} {text}"
        else:
            cells.append(text)
        right_edge = word.box[2] if right_edge is None else max(right_edge, word.box[2])
    return cells


def rows_of_cells(words: list[OcrWord]) -> list[list[str]]:
    height = median_height([w for w in words if w.text.strip()])
    return [row_cells(row, height) for row in group_rows(words)]


def rows_text(rows: list[list[str]]) -> str:
    return "\n".join(CELL_SEPARATOR.join(cells) for cells in rows)
