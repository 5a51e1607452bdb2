"""Experiments: one module per figure or table of the paper's supplement.

Each module says what it trains or loads, runs and scores, on top of the library
(fingerprints, losses, models, data, training, metrics); drawing lives in
:mod:`dsdviz.viz`, which takes these results and returns figures. The figure registry
(:mod:`dsdviz.figures`) and the notebooks call the functions here.
"""
