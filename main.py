"""Entry point of the installed app (`flet build apk|aab|ipa`, `flet run`): see [tool.flet] in pyproject.toml.

The app itself is fieldpeer.phone; this file only starts it, so importing it does nothing.
"""

import os

import flet as ft

from fieldpeer.phone import main

# Flet's app runtime runs this module as __main__ and sets FLET_PLATFORM on phones.
if __name__ == "__main__" or os.environ.get("FLET_PLATFORM") in ("android", "ios"):
    ft.run(main)
