"""The code pool: mini program codes made ahead of time, so that the login path makes no
WeChat call while the pool has codes (``pool.py`` tells how, ``policy.py`` holds its rules).

It sits beside the login floor, not in it: the wiring builds it from narrow ports
(``ports``), and the login flows receive it; it imports neither ``login`` nor the wiring.
"""

from minilogin.codepool.policy import FILLER_SHARE, PageError, PoolSettings
from minilogin.codepool.pool import CodePool

__all__ = ["FILLER_SHARE", "CodePool", "PageError", "PoolSettings"]
