"""Finding a font with Chinese glyphs for figures, through matplotlib's font manager.

matplotlib keeps the list of fonts it knows in a cache file (``fontlist-v*.json`` in
``matplotlib.get_cachedir()``) written the first time it runs.  A font installed afterwards -- say
``apt-get install fonts-noto-cjk`` after a first report -- is not in that list, so a plain lookup says
"no CJK font" although one is installed.  :func:`refresh_font_list` therefore compares the font files
on the system (:func:`matplotlib.font_manager.findSystemFonts`) with the files the manager knows, adds
the missing ones to the live manager (:meth:`~matplotlib.font_manager.FontManager.addfont`) and
rewrites the cache file, so the next process starts with the new fonts too.

:func:`cjk_font` then looks among the fonts for one whose name suggests CJK (Noto Sans CJK, Source
Han, WenQuanYi, SimHei, Microsoft YaHei, PingFang ...), then any other, and checks that it has glyphs
for ``覆盖率``.  ``GRASSROOTS_CJK_FONT`` may name a font file outside the system folders.  When none
exists, :data:`NO_CJK_FONT_MESSAGE` says how to install one.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

CJK_PROBE = "覆盖率"

NO_CJK_FONT_MESSAGE = (
    "no font with Chinese glyphs was found, so figures use English labels. To fix it, install one and "
    "re-run: Debian/Ubuntu `sudo apt-get install fonts-noto-cjk`, Fedora `sudo dnf install "
    "google-noto-sans-cjk-fonts`, conda `conda install -c conda-forge font-ttf-noto-cjk`; or point "
    "GRASSROOTS_CJK_FONT at a .otf/.ttf/.ttc file with Chinese glyphs. matplotlib's font list is "
    "refreshed automatically when fonts were installed after it was cached.")


class CJKFontWarning(UserWarning):
    """No font with Chinese glyphs: figures use English labels."""


_CJK_NAME = re.compile(
    r"CJK|Han\s?Sans|Han\s?Serif|Source Han|WenQuanYi|WQY|Sim(Hei|Sun|Kai|Fang)|YaHei|JhengHei|"
    r"PingFang|Hiragino|Heiti|Songti|Kaiti|STHei|STSong|AR PL|UKai|UMing|Droid Sans Fallback|Sarasa|"
    r"LXGW|Zen ?Hei|Micro ?Hei|Noto Sans SC|Noto Serif SC|Noto Sans TC|FangSong|KaiTi|DengXian|"
    r"Unifont|Arial Unicode|MS Gothic|Meiryo|Yu Gothic|Malgun|Nanum|Takao|IPA",
    re.IGNORECASE)

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def has_glyphs(path: str, text: str = CJK_PROBE) -> bool:
    """Whether the font file at ``path`` has a glyph for every character of ``text``."""
    try:
        from matplotlib.ft2font import FT2Font
        font = FT2Font(path)
        return all(font.get_char_index(ord(c)) != 0 for c in text)
    except Exception:  # noqa: BLE001 - an unreadable font is simply not a candidate
        return False


def cache_file() -> Path:
    """matplotlib's font-list cache file (it may not exist yet)."""
    import matplotlib
    from matplotlib import font_manager
    return Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"


def missing_fonts(manager=None, system_fonts=None) -> list[str]:
    """Font files on the system that ``manager`` (default: matplotlib's) does not know: installed after
    its cache was written."""
    from matplotlib import font_manager
    manager = manager or font_manager.fontManager
    files = font_manager.findSystemFonts() if system_fonts is None else list(system_fonts)
    known = {os.path.realpath(e.fname) for e in manager.ttflist}
    return sorted(f for f in files if f.lower().endswith(_FONT_SUFFIXES) and os.path.realpath(f) not in known)


def refresh_font_list(manager=None, system_fonts=None, cache: Path | None = None) -> list[str]:
    """Add the fonts installed since matplotlib's cache was written to ``manager`` and rewrite the cache.

    Returns the files added.  ``cache`` is the file to rewrite (default :func:`cache_file` when
    ``manager`` is matplotlib's own; a manager passed in is not written unless ``cache`` is given).
    The cache is written atomically (temporary file, then rename); failing to write it only costs
    the next process the same scan.
    """
    from matplotlib import font_manager
    own = manager is None or manager is font_manager.fontManager
    manager = manager or font_manager.fontManager
    new = missing_fonts(manager, system_fonts)
    added = []
    for f in new:
        try:
            manager.addfont(f)
            added.append(f)
        except Exception as exc:  # noqa: BLE001 - an unreadable font file is skipped
            log.debug("font %s not added: %s", f, exc)
    if not added:
        return []
    clear = getattr(manager, "_findfont_cached", None)
    if clear is not None and hasattr(clear, "cache_clear"):
        clear.cache_clear()
    target = cache if cache is not None else (cache_file() if own else None)
    if target is not None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".fontlist-", suffix=".json")
            os.close(fd)
            font_manager.json_dump(manager, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            log.info("matplotlib font cache %s not rewritten: %s", target, exc)
    log.info("matplotlib font list refreshed: %d font files added", len(added))
    return added


def find_cjk_font(manager=None, refresh: bool = True) -> str | None:
    """Family name of a font with glyphs for Chinese among the fonts ``manager`` knows, or None.

    With ``refresh`` (default) fonts installed since the cache was written are added first.
    """
    import matplotlib
    from matplotlib import font_manager

    manager = manager or font_manager.fontManager
    env = os.environ.get("GRASSROOTS_CJK_FONT")
    if env:
        if os.path.isfile(env) and has_glyphs(env):
            manager.addfont(env)
            return font_manager.FontProperties(fname=env).get_name()
        log.warning("GRASSROOTS_CJK_FONT=%s is not a readable font with Chinese glyphs; ignored", env)
    if refresh:
        refresh_font_list(manager if manager is not font_manager.fontManager else None)
    own = os.path.join(matplotlib.get_data_path(), "")
    # matplotlib's own fonts have no CJK; "Last Resort" has a box for every code point (tofu)
    entries = [e for e in manager.ttflist
               if not os.path.abspath(e.fname).startswith(own) and not re.search(r"last ?resort", e.name, re.I)]
    named = [e for e in entries if _CJK_NAME.search(e.name) or _CJK_NAME.search(os.path.basename(e.fname))]
    # prefer simplified-Chinese faces of multi-language families, then regular weight
    named.sort(key=lambda e: (not re.search(r"\bSC\b|GB|Hei|Microhei|Zenhei", e.name + e.fname, re.I),
                              e.weight not in (400, "normal", "regular"), e.name))
    seen: set[str] = set()
    for e in named + [e for e in entries if e not in named]:
        if e.fname in seen:
            continue
        seen.add(e.fname)
        if has_glyphs(e.fname):
            return e.name
    return None


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """:func:`find_cjk_font` on matplotlib's font manager, once per process."""
    return find_cjk_font()


def has_bold(family: str) -> bool:
    """Whether matplotlib knows a bold face of ``family`` (else titles are set in the regular face)."""
    from matplotlib import font_manager
    return any(e.name == family and isinstance(e.weight, int) and e.weight >= 600
               for e in font_manager.fontManager.ttflist)


_warned = False


def warn_no_cjk() -> None:
    """One :class:`CJKFontWarning` per process, with :data:`NO_CJK_FONT_MESSAGE`."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(NO_CJK_FONT_MESSAGE, CJKFontWarning, stacklevel=3)
