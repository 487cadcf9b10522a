"""One style for every figure: colours, labels, images, saving figures with their manifest, explorers."""
