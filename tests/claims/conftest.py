"""The claim tests check the paper's claims on the key numbers of the built book
(``figures/manifest.json``): every test here carries the marker ``claims``, and a
missing figure fails with the command that makes it (:func:`claims.key_numbers`)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/claims/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.claims)
