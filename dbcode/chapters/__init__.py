"""One module per chapter of the book: its networks, key numbers, plots and explorer.

Importing the package registers every chapter's named sweeps in
:mod:`dbcode.run.registry` (the command line does this).
"""

from dbcode.chapters import bars, delays, derivation, mnist, scenes, scenes_controls, scenes_paper

__all__ = ["bars", "delays", "derivation", "mnist", "scenes", "scenes_controls", "scenes_paper"]
