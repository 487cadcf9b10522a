"""Downloads of the published data files, verified against their published checksums.

Nothing downloads unless a user calls a ``download_*`` function of a loader; tests and
CI use the data that ship with installed packages. :func:`fetch` hands the transfer and
the checksum to ``pooch``: a file already present with the right checksum is kept, a
download with another checksum is deleted and the next mirror is tried.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

DOWNLOADER = None
"""The ``pooch`` downloader (``None``: pooch's HTTP downloader). Tests replace it to
work offline."""


def fetch(urls: Sequence[str], fname: str, md5: str, folder: str | os.PathLike) -> Path:
    """``folder / fname`` with MD5 ``md5``, downloaded from the first of ``urls`` that
    serves it.

    Raises
    ------
    OSError
        If no mirror served the file with the right checksum; the message lists what
        each one did.
    """
    import pooch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        try:
            path = pooch.retrieve(
                url, known_hash=f"md5:{md5}", fname=fname, path=folder, downloader=DOWNLOADER
            )
            return Path(path)
        except (OSError, ValueError) as err:  # unreachable, or checksum mismatch
            errors.append(f"{url}: {err}")
    raise OSError(f"could not download {fname} with MD5 {md5}:\n" + "\n".join(errors))
