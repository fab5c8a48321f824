"""minilogin: log in to a PC website by scanning a WeChat mini program code."""

__version__ = "0.1.0"
