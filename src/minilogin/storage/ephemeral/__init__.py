"""Short-lived state and publish/subscribe, behind the ``EphemeralStore`` interface."""
