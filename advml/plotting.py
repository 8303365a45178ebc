"""Small plotting helpers shared by several notebooks."""
from __future__ import annotations

import numpy as np


def image_grid(images, nrows: int | None = None, ncols: int | None = None, titles=None,
               cmap: str = "gray", size: float = 1.2, suptitle: str | None = None):
    """Show images (N, H, W) or (N, H, W, C) on a grid without axes; returns the figure.

    Values may be uint8 or floats (each image is shown with the range of the whole batch).
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"image_grid needs a non-empty batch (N, H, W[, C]), got shape {images.shape}")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    n = len(images)
    ncols = ncols or min(n, 10)
    nrows = nrows or -(-n // ncols)
    if nrows * ncols < n:
        raise ValueError(f"a {nrows}x{ncols} grid cannot hold {n} images")
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images")
    vmin, vmax = (0, 255) if images.dtype == np.uint8 else (float(images.min()), float(images.max()))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap if images.ndim == 3 else None, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
