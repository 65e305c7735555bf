"""The one exception type the model raises."""


class ModelError(ValueError):
    """Something does not fit the domain model: an unknown kind, a bad value, a
    relationship between kinds it may not join. The message says which and why."""
