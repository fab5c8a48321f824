"""Pure logic: no I/O, no web framework. Everything here is a plain function or dataclass."""
