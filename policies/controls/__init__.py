"""The pack's controls. Importing this package registers every control, in report order."""

from . import cross, encryption, exposure, kubernetes, resilience, transit  # noqa: F401
