"""dbcode: simulation engine for *Local dendritic balance enables learning of efficient
representations in networks of spiking neurons* (Mikulasch, Rudelt, Priesemann, 2020)."""

__version__ = "0.1.0"
