"""The suite runs the pure-Python model, whatever `dcsim compile` left in the tree: tests
patch model modules, and a compile older than an edit would print its note into every
command's output. tests/test_native.py runs the compiled model, in processes of its own."""

import os

os.environ["DCSIM_PURE"] = "1"
