"""Layout checks of a drawn matplotlib figure, generic over its artists (issue 14, item 6): every
text that is drawn (titles, tick labels, axis labels, legend texts, colour-bar labels,
annotations) lies inside the figure and over no other text; no legend covers plotted data
(line points, bars, markers, images of any axes); no two opaque markers of one scatter sit on
the same pixel (overplotting that hides points). ``problems(figure)`` lists what is wrong, in
words, for a test to assert empty.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

TOLERANCE = 1.0  # pixels: anti-aliasing may touch the edge


def name(figure: Figure) -> str:
    title = figure.get_suptitle() or next((a.get_title() for a in figure.axes if a.get_title()),
                                          "")
    return title.split("\n")[0] or "untitled figure"


def drawn(artist) -> bool:
    """The artist and the axes it lives in are visible."""
    axes = getattr(artist, "axes", None)
    return artist.get_visible() and (axes is None or axes.get_visible())


def tick_labels_out_of_view(figure: Figure) -> set[int]:
    """Tick labels matplotlib does not draw: their tick lies outside the axis' view."""
    hidden = set()
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = (high - low) * 1e-9 + 1e-12
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                location = tick.get_loc()
                if location is None or not (low - slack <= location <= high + slack):
                    hidden.update({id(tick.label1), id(tick.label2)})
    return hidden


def texts(figure: Figure):
    """Every text artist that is drawn, with something to show."""
    hidden = tick_labels_out_of_view(figure)
    for artist in figure.findobj(Text, include_self=False):
        if artist.get_text().strip() and drawn(artist) and id(artist) not in hidden:
            yield artist


def clipped_texts(figure: Figure, renderer) -> list[str]:
    width, height = figure.bbox.width, figure.bbox.height
    out = []
    for artist in texts(figure):
        box = artist.get_window_extent(renderer)
        if (box.x0 < -TOLERANCE or box.y0 < -TOLERANCE or box.x1 > width + TOLERANCE
                or box.y1 > height + TOLERANCE):
            out.append(f"text {artist.get_text()!r} at ({box.x0:.0f}, {box.y0:.0f})–"
                       f"({box.x1:.0f}, {box.y1:.0f}) lies outside the figure "
                       f"({width:.0f} × {height:.0f} px)")
    return out


def overlapping_texts(figure: Figure, renderer) -> list[str]:
    """Two drawn texts on top of each other (e.g. two panels' long titles running together)."""
    boxes = [(artist.get_text(), artist.get_window_extent(renderer)) for artist in texts(figure)]
    out = []
    for index, (first, one) in enumerate(boxes):
        for second, other in boxes[index + 1:]:
            if (min(one.x1, other.x1) - max(one.x0, other.x0) > TOLERANCE
                    and min(one.y1, other.y1) - max(one.y0, other.y0) > TOLERANCE):
                out.append(f"texts {first!r} and {second!r} overlap")
    return out


def data_boxes(axes: Axes, renderer) -> list[tuple[str, Bbox]]:
    """Display boxes of what the axes plot: each data point of a line in data coordinates (a
    reference line such as axhline, in axes coordinates, is not data), each bar, marker and
    image, each band (fill_between)."""
    boxes: list[tuple[str, Bbox]] = []
    for line in axes.get_lines():
        if not drawn(line) or line.get_transform() != axes.transData:
            continue
        points = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
        for x, y in points[np.isfinite(points).all(axis=1)]:
            boxes.append((f"point of {line.get_label()!r}", Bbox([[x, y], [x, y]])))
    for patch in axes.patches:
        if drawn(patch) and isinstance(patch, Rectangle) and patch.get_height() != 0:
            boxes.append((f"bar of {patch.get_label()!r}", patch.get_window_extent(renderer)))
    for collection in axes.collections:
        if not drawn(collection):
            continue
        if isinstance(collection, PathCollection):
            offsets = collection.get_offset_transform().transform(collection.get_offsets())
            for x, y in offsets[np.isfinite(offsets).all(axis=1)]:
                boxes.append(("marker", Bbox([[x, y], [x, y]])))
        elif isinstance(collection, PolyCollection):
            for path in collection.get_paths():
                vertices = collection.get_transform().transform(path.vertices)
                for x, y in vertices[np.isfinite(vertices).all(axis=1)]:
                    boxes.append(("band", Bbox([[x, y], [x, y]])))
    for image in axes.images:
        if drawn(image) and isinstance(image, AxesImage):
            boxes.append(("image", image.get_window_extent(renderer)))
    return boxes


def legends(figure: Figure) -> list[Legend]:
    found = [legend for legend in figure.legends if drawn(legend)]
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is not None and drawn(legend) and axes.get_visible():
            found.append(legend)
    return found


def legends_over_data(figure: Figure, renderer) -> list[str]:
    out = []
    for legend in legends(figure):
        frame = legend.get_window_extent(renderer)
        for axes in figure.axes:
            if not axes.get_visible():
                continue
            for what, box in data_boxes(axes, renderer):
                if (box.x1 > frame.x0 and box.x0 < frame.x1 and box.y1 > frame.y0
                        and box.y0 < frame.y1):
                    labels = ", ".join(t.get_text() for t in legend.get_texts())[:60]
                    out.append(f"the legend ({labels}) covers a {what} at "
                               f"({box.x0:.0f}, {box.y0:.0f})")
                    break
    return out


def overplotted(figure: Figure) -> list[str]:
    """Opaque markers of one scatter drawn on the same pixel: a reader sees one where there are
    more. (Translucent markers — a design's thousands of points — show their overlap as a darker
    spot, the usual remedy for overplotting.)"""
    out = []
    for axes in figure.axes:
        for collection in axes.collections:
            if not (drawn(collection) and isinstance(collection, PathCollection)):
                continue
            if collection.get_alpha() is not None and collection.get_alpha() < 0.9:
                continue
            offsets = collection.get_offset_transform().transform(collection.get_offsets())
            offsets = offsets[np.isfinite(offsets).all(axis=1)]
            pixels = np.round(offsets).astype(int)
            unique = len(np.unique(pixels, axis=0)) if len(pixels) else 0
            if unique < len(pixels):
                out.append(f"{len(pixels) - unique} of {len(pixels)} markers in "
                           f"{axes.get_title()!r} sit on the pixel of another")
    return out


def problems(figure: Figure) -> list[str]:
    """What is wrong with the figure's layout (nothing: an empty list)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    found = [*clipped_texts(figure, renderer), *overlapping_texts(figure, renderer),
             *legends_over_data(figure, renderer), *overplotted(figure)]
    return [f"{name(figure)}: {problem}" for problem in found]
