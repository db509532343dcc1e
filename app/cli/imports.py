"""`flask` commands (to be written)."""

commands: list = []
