"""``python -m dcsim``: the same as the ``dcsim`` command."""

from dcsim.cli import main

if __name__ == "__main__":
    main(prog_name="dcsim")
