"""The two stores: durable (SQL) and ephemeral (memory or Redis), one interface each."""
