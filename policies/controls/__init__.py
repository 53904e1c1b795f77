"""The pack's controls: one control per module, grouped by service (``<service>/<name>.py``).

Importing this package imports every control module, which registers the control. Modules
are found by walking the package (relative to wherever the pack directory is), so adding a
control is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil


def _import_all() -> list[str]:
    names: list[str] = []
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


CONTROL_MODULES = _import_all()
