"""Similarity and influence over what the node has observed: pure numpy/scipy, no I/O."""
