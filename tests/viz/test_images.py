"""Images and mosaics of small images."""

import matplotlib.pyplot as plt
import numpy as np

from dbcode.viz.images import mosaic, show_image, show_mosaic


def test_mosaic_tiles_and_normalises_with_gaps():
    m = mosaic(np.arange(16 * 64, dtype=float).reshape(16, 8, 8), cols=4)
    assert m.shape == (35, 35) and np.nanmax(m) == 1.0 and np.isnan(m[8, 0])
    m = mosaic(np.ones((5, 8, 8)), cols=3)
    assert m.shape == (2 * 9 - 1, 3 * 9 - 1) and np.isnan(m[8]).all()
    assert np.isnan(m[9:, 18:]).all(), "the sixth tile is missing: left blank"


def test_images_have_no_ticks():
    fig, (a, b) = plt.subplots(1, 2)
    show_image(a, np.eye(3), symmetric=True, title="t")
    show_mosaic(b, np.ones((2, 4, 4)), 2)
    assert a.get_xticks().size == 0 and a.get_title() == "t"
    assert a.images[0].get_clim() == (-1.0, 1.0)
    plt.close(fig)
