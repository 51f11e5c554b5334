"""Maps the top-level folders onto the ``tessera`` namespace.

``compiler/`` is ``tessera.compiler``, ``hw/`` is ``tessera.hw`` and so on, so the repository
shows the architecture while imports stay namespaced. Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

TOPS = ("compiler", "hw", "sim", "runtime")

packages: list[str] = []
package_dir: dict[str, str] = {}
for top in TOPS:
    packages.append(f"tessera.{top}")
    package_dir[f"tessera.{top}"] = top
    packages += [f"tessera.{top}.{sub}" for sub in find_packages(top)]

setup(packages=packages, package_dir=package_dir)
