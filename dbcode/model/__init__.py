"""The model: parameters, the rules of every equation, the fast kernels and the simulation loop. The only code that decides what a simulation computes."""

from . import jitcache

jitcache.configure()
