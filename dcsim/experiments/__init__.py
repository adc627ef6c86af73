"""Stage 3, experiments: replications of the model and what is learnt from them.

:mod:`.runner` runs replications on one process or a pool (outputs independent
of the number of workers), :mod:`.results` turns their rows into tables once,
:mod:`.statistics` summarises replications (means, intervals, layer shares);
:mod:`.compare`, :mod:`.cascade` and :mod:`.sweep` are the what-ifs, all with
common random numbers. Nothing here writes a file.
"""
