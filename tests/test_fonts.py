"""The font subset embedded in every report page (issue 13: HarfBuzz instead of fontTools'
subsetter, ~100× faster). The subset is read back with fontTools and compared with the whole
Chinese face and with fontTools' own subset of the same characters."""

from __future__ import annotations

import base64
import io

from fontTools import subset as ft_subset
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

from sim.report import fonts

# Chinese, Latin, digits, the yuan sign, dashes, full-width punctuation and a rare character
TEXT = "医保基金累计结余可支付月数（居民）：¥1,234.5 – 5%；Point value 点值 Ω 鬱"


def _embedded(css: str) -> TTFont:
    assert css.startswith("@font-face {") and "format('opentype')" in css
    return TTFont(io.BytesIO(base64.b64decode(css.split("base64,")[1].split(")")[0])))


def _whole() -> TTFont:
    path, _ = fonts.cjk_font()
    return TTFont(str(path), fontNumber=fonts.cjk_face_index(), lazy=True)


def test_the_subset_draws_every_character_as_the_whole_font_does():
    sub, whole = _embedded(fonts.inline_font_face(TEXT)), _whole()
    cmap, whole_cmap = sub.getBestCmap(), whole.getBestCmap()
    glyphs, whole_glyphs = sub.getGlyphSet(), whole.getGlyphSet()
    for character in set(TEXT) - {" "}:
        assert ord(character) in cmap, character
        mine, theirs = cmap[ord(character)], whole_cmap[ord(character)]
        assert sub["hmtx"][mine] == whole["hmtx"][theirs], character
        drawn, reference = RecordingPen(), RecordingPen()
        glyphs[mine].draw(drawn)
        whole_glyphs[theirs].draw(reference)
        assert drawn.value == reference.value, character
    assert ord("丁") not in cmap  # a subset: characters not asked for are left out
    # line heights as the whole font's
    for table, fields in (("hhea", ("ascent", "descent", "lineGap")),
                          ("OS/2", ("sTypoAscender", "sTypoDescender", "usWinAscent")),
                          ("head", ("unitsPerEm", "yMin", "yMax"))):
        for field in fields:
            assert getattr(sub[table], field) == getattr(whole[table], field), (table, field)


def test_the_subset_keeps_the_copyright_and_the_licence():
    """OFL-1.1 asks that copies keep the copyright notice and the licence: name records 0, 13
    and 14 of the face go with every page."""
    sub, whole = _embedded(fonts.inline_font_face(TEXT)), _whole()
    for name_id in (0, 1, 13, 14):
        assert sub["name"].getDebugName(name_id) == whole["name"].getDebugName(name_id)
    assert "Open Font License" in sub["name"].getDebugName(13)
    chinese = {(n.nameID, n.langID) for n in whole["name"].names if n.langID == 0x804}
    assert chinese and chinese <= {(n.nameID, n.langID) for n in sub["name"].names}


def test_the_subset_has_the_glyphs_and_features_of_fonttools_subset():
    """Against fontTools' subsetter with every layout feature (the earlier implementation):
    the same glyphs (variants reached by features included) and the same features."""
    sub = _embedded(fonts.inline_font_face(TEXT))
    reference = _whole()
    options = ft_subset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(text=TEXT)
    subsetter.subset(reference)
    assert len(sub.getGlyphOrder()) == len(reference.getGlyphOrder()) > len(set(TEXT))
    for tag in ("GSUB", "GPOS"):
        features = {r.FeatureTag for r in sub[tag].table.FeatureList.FeatureRecord}
        assert features == {r.FeatureTag for r in reference[tag].table.FeatureList.FeatureRecord}
    assert {"locl", "vert"} <= {r.FeatureTag for r in sub["GSUB"].table.FeatureList.FeatureRecord}


def test_a_character_the_font_lacks_shows_the_notdef_box():
    """The subset keeps .notdef's outline (a visible box, not nothing, for a character that
    is not in the font)."""
    sub = _embedded(fonts.inline_font_face(TEXT))
    assert sub.getGlyphOrder()[0] == ".notdef"
    drawn = RecordingPen()
    sub.getGlyphSet()[".notdef"].draw(drawn)
    assert len(drawn.value) > 4


def test_no_text_no_font():
    assert fonts.inline_font_face("") == ""
