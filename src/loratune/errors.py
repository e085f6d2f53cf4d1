"""The one error type users see: the CLI prints its message on one line and exits 2."""


class LoratuneError(ValueError):
    """Bad input or an unusable setting, explained in one line."""
