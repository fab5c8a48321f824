"""HTTP routes: thin adapters that parse, call the flows, and answer."""
