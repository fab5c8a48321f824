"""The ``minilogin`` command (``minilogin.cli:main``): importing the package registers every
command on it."""

from minilogin.cli import access, admin, applications, server
from minilogin.cli.root import cli, main

__all__ = ["access", "admin", "applications", "cli", "main", "server"]
