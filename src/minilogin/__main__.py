"""``python -m minilogin`` is the ``minilogin`` command."""

from minilogin.cli import main

main()
