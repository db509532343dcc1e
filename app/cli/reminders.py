"""`flask reminders` (to be written)."""

commands: list = []
