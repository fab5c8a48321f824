"""The login's steps as the shell performs them: look up, call WeChat, apply a core
transition, store, publish. No web framework here; routes call these and answer."""
