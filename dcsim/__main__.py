"""``python -m dcsim``: the same as the ``dcsim`` command."""

from dcsim.cli import program

if __name__ == "__main__":
    program()
