"""WeChat behind one async client (``client``), its access tokens (``token_cache``), its
errors (``errors``), and a local emulator of it (``sandbox``)."""
