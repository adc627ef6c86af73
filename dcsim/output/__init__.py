"""Stage 4, output: what a run leaves behind and what a person reads.

:mod:`.export` writes the run tables as CSV or Parquet, :mod:`.report` the
charts and the HTML page, :mod:`.tables` the tables printed in the terminal;
every file goes through :mod:`.atomic`, so a reader never sees half of one and
nothing is overwritten by surprise.
"""
