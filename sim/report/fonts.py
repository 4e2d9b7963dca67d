"""The CJK font of charts and reports: Noto Sans CJK SC, shipped by the PyPI package
``noto-cjk-sans-otc`` (OFL-1.1), registered with matplotlib so that Chinese labels render with
real glyphs instead of boxes, and subset into a small inline font for the HTML briefing (so the
report needs no font installed on the reader's machine and no network).
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

CJK_FAMILY = "Noto Sans CJK SC"
LATIN_FAMILY = "DejaVu Sans"
PACKAGE = "noto-cjk-sans-otc"


class FontMissing(RuntimeError):
    """The CJK font is not installed, so Chinese labels cannot be drawn."""


def cjk_font() -> tuple[Path, str]:
    """The path of the Noto Sans CJK collection and the family used for Chinese text."""
    try:
        import noto_cjk_sans_otc
    except ImportError as error:
        raise FontMissing(
            f"Chinese charts need the font package {PACKAGE} (Noto Sans CJK, OFL-1.1), which is "
            f"a dependency of drgsim: install it with `pip install {PACKAGE}`") from error
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    if not path.is_file():
        raise FontMissing(f"the font file {path} of the package {PACKAGE} is missing; "
                          f"reinstall it with `pip install --force-reinstall {PACKAGE}`")
    return path, CJK_FAMILY


@cache
def cjk_face_index() -> int:
    """The index of the simplified-Chinese face inside the font collection."""
    from matplotlib.ft2font import FT2Font

    path, family = cjk_font()
    first = FT2Font(str(path))
    for index in range(getattr(first, "num_faces", 1)):
        if FT2Font(str(path), face_index=index).family_name == family:
            return index
    raise FontMissing(f"{path} has no face named {family!r}")


@cache
def register_cjk_font() -> str:
    """Register the collection with matplotlib (once) and return the Chinese family name."""
    from matplotlib import font_manager

    path, family = cjk_font()
    known = {entry.name for entry in font_manager.fontManager.ttflist
             if Path(entry.fname) == path}
    if family not in known:
        font_manager.fontManager.addfont(str(path))
    return family


def font_family(lang: str) -> list[str]:
    """matplotlib's font list for a language: Chinese first for zh; for en the Latin font first
    and the CJK font as fallback (reform titles may be Chinese)."""
    family = register_cjk_font()
    return [family, LATIN_FAMILY] if lang == "zh" else [LATIN_FAMILY, family]


def inline_font_face(text: str) -> str:
    """A CSS ``@font-face`` rule embedding the glyphs of the characters of ``text`` (an OpenType
    subset of the CJK font as a data URL), or an empty string when ``text`` is empty.

    The subset is HarfBuzz's (``uharfbuzz``): every layout feature, script and name record of
    the face is kept (the copyright and OFL licence records included), glyph outlines and
    metrics unchanged, and the font-wide bounding boxes stay the whole font's. fontTools made
    the same subset (the same 864 glyphs and features for a Chinese report page) in ~0.9 s a
    page, HarfBuzz in ~0.01 s (issue 13)."""
    characters = sorted(set(text))
    if not characters:
        return ""
    import uharfbuzz as hb

    family = cjk_font()[1]
    request = hb.SubsetInput()
    for character in characters:
        request.unicode_set.add(ord(character))
    for kept in (hb.SubsetInputSets.LAYOUT_FEATURE_TAG, hb.SubsetInputSets.LAYOUT_SCRIPT_TAG,
                 hb.SubsetInputSets.NAME_ID, hb.SubsetInputSets.NAME_LANG_ID):
        every = request.sets(kept)  # HarfBuzz's default selection, cleared and inverted: all
        every.clear()
        every.invert()
    request.flags = hb.SubsetFlags.NOTDEF_OUTLINE
    subset = hb.subset(_cjk_face(), request)  # raises RuntimeError if HarfBuzz cannot
    encoded = base64.b64encode(subset.blob.data).decode("ascii")
    return (f"@font-face {{ font-family: '{family} (embedded)'; "
            f"src: url(data:font/otf;base64,{encoded}) format('opentype'); }}")


@cache
def _cjk_face():
    """The Chinese face of the collection, as HarfBuzz reads it (once a process)."""
    import uharfbuzz as hb

    return hb.Face(hb.Blob.from_file_path(str(cjk_font()[0])), cjk_face_index())
