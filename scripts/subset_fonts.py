"""Build the fallback fonts the field app serves in web mode (assets/fonts/), so text a peer
types in any script renders offline instead of as empty boxes (no CDN: see fieldpeer/screens/web_fonts.py).

Sources: Debian bookworm's fonts-noto-cjk, fonts-noto-core and fonts-noto-color-emoji (SIL OFL
1.1), unpacked with `apt-get download PKG && dpkg-deb -x PKG.deb DIR`. Needs fontTools and brotli
(not project dependencies: run once by whoever updates the fonts, and commit the output):

    python scripts/subset_fonts.py DIR   # DIR holds the unpacked usr/share/fonts
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

OUT = Path(__file__).resolve().parent.parent / "assets" / "fonts"


def gb2312_hanzi() -> str:
    """Level 1 of GB 2312 (3,755 hanzi, over 99% of everyday simplified Chinese text)."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars)


def common_emoji() -> list[int]:
    """Faces, hearts, hands, people, weather, food, transport, objects and symbols a note may hold."""
    ranges = [(0x1F600, 0x1F64F), (0x1F90C, 0x1F9FF), (0x1F440, 0x1F4AF), (0x1F300, 0x1F32C), (0x1F380, 0x1F3C4), (0x1F680, 0x1F6A8)]
    singles = [0x2600, 0x2601, 0x2614, 0x2615, 0x263A, 0x2639, 0x2705, 0x2714, 0x2716, 0x274C, 0x2753, 0x2757, 0x2764, 0x2B50, 0x26A0, 0x26A1,
               0x203C, 0x2049, 0x2122, 0x2139, 0x231A, 0x231B, 0x23F0, 0x23F3, 0x270C, 0x270D, 0x2728, 0x2744, 0x1F525, 0x1F4F1, 0x1F4DE,
               0x1F697, 0x1F68C, 0x1F3E0, 0x1F3E5, 0x1F37D, 0x1F355, 0x1F354, 0x1F34E, 0x1F6CF, 0x1F4B0, 0x1F4B5, 0x1F4C5, 0x1F4DD,
               0x1F91D, 0x1F64F, 0x1F9E1, 0x1F49B, 0x1F49A, 0x1F499, 0x1F49C, 0x1F5A4, 0x1F90D, 0x1F90E, 0xFE0F, 0x200D]
    return sorted({c for a, b in ranges for c in range(a, b + 1)} | set(singles))


def save(font: TTFont, name: str, *, unicodes: list[int] | None = None, text: str = "", flavor: str | None = "woff2") -> None:
    options = subset.Options()
    options.flavor = flavor
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes or [], text=text)
    subsetter.subset(font)
    path = OUT / name
    font.flavor = flavor
    font.save(path)
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")


def main(root: Path) -> None:
    fonts = root / "usr" / "share" / "fonts"
    OUT.mkdir(parents=True, exist_ok=True)
    cjk = TTCollection(fonts / "opentype" / "noto" / "NotoSansCJK-Regular.ttc")
    sc = next(f for f in cjk.fonts if "SC" in f["name"].getDebugName(1))
    punctuation = [*range(0x3000, 0x3040), *range(0x3040, 0x3100), *range(0xFF00, 0xFFF0), *range(0x2000, 0x2070)]
    save(sc, "notosanscjk-sc.woff2", unicodes=punctuation, text=gb2312_hanzi())
    arabic = TTFont(fonts / "truetype" / "noto" / "NotoSansArabic-Regular.ttf")
    save(arabic, "notosansarabic.woff2", unicodes=list(arabic.getBestCmap()))
    emoji = TTFont(fonts / "truetype" / "noto" / "NotoColorEmoji.ttf")
    wanted = [c for c in common_emoji() if c in emoji.getBestCmap()]
    save(emoji, "notocoloremoji.ttf", unicodes=wanted, flavor=None)  # bitmaps: woff2 gains nothing


if __name__ == "__main__":
    main(Path(sys.argv[1]))
