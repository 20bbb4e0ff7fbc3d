"""Configuration keys with a meaning to cayley itself."""

__all__ = ["ENABLE_POWER_USER_MODE"]

#: Config key that must be ``True`` for decorators resolved from config (``@resolve``).
ENABLE_POWER_USER_MODE = "hamilton.enable_power_user_mode"
